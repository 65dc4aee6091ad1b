import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { formatProblem, loadYaml } from '../../../rules/load.js';
import { AppError } from '../../errors.js';
import { API_ROLES, type ApiToken } from './auth.js';

/**
 * The API tokens file: a YAML list of `- name: …, role: read|agent|admin, token: …`. Names are
 * what the events record as `by`, so they must tell the tokens apart.
 */
export const tokensFileSchema = z
  .array(
    z.strictObject({
      name: z.string().trim().min(1).max(100).regex(/^[\w.@-]+$/, 'letters, digits and . _ @ - only'),
      role: z.enum(API_ROLES),
      token: z.string().min(24, 'at least 24 characters').max(1000).regex(/^\S+$/, 'no spaces'),
    }),
  )
  .min(1, 'list at least one token')
  // Run even when an entry is invalid, so one start lists every problem; entries may then be raw input.
  .superRefine(
    (tokens, ctx) => {
      const names = new Set<unknown>();
      const secrets = new Set<unknown>();
      (tokens as unknown[]).forEach((entry, index) => {
        if (typeof entry !== 'object' || entry === null) return;
        const { name, token } = entry as { name?: unknown; token?: unknown };
        if (typeof name === 'string' && names.has(name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `the name ${name} is used twice` });
        if (typeof token === 'string' && secrets.has(token)) ctx.addIssue({ code: 'custom', path: [index, 'token'], message: 'the same token is listed twice' });
        names.add(name);
        secrets.add(token);
      });
    },
    { when: () => true },
  );

/** The tokens of the file at `file`; CONFIG_INVALID listing every problem (with line and column) if it cannot be used. */
export async function readApiTokensFile(file: string): Promise<ApiToken[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `MAILROOM_API_TOKENS_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const loaded = loadYaml(text, file, tokensFileSchema);
  if (!loaded.ok) throw new AppError('CONFIG_INVALID', `MAILROOM_API_TOKENS_FILE:\n${loaded.problems.map(formatProblem).join('\n')}`);
  return loaded.value;
}

/**
 * Every API token the configuration gives: MAILROOM_API_TOKEN (role admin, named `api`, as the
 * events of the unversioned routes always said) and those of MAILROOM_API_TOKENS_FILE.
 */
export async function readApiTokens(config: { apiToken: string | null; apiTokensFile: string | null }): Promise<ApiToken[]> {
  const fromFile = config.apiTokensFile === null ? [] : await readApiTokensFile(config.apiTokensFile);
  const single: ApiToken[] = config.apiToken === null ? [] : [{ name: 'api', role: 'admin', token: config.apiToken }];
  if (single.length > 0 && fromFile.some((t) => t.name === 'api')) {
    throw new AppError('CONFIG_INVALID', `MAILROOM_API_TOKENS_FILE: ${config.apiTokensFile}: the name api is MAILROOM_API_TOKEN's; choose another`);
  }
  return [...single, ...fromFile];
}
