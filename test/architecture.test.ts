import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.ts')) out.push(full);
    }
  };
  walk(path.join(ROOT, folder));
  return out;
}

/** Top-level folders a file imports from, by relative import path. */
function importedFolders(file: string): Array<{ folder: string; typeOnly: boolean; spec: string }> {
  const text = readFileSync(file, 'utf8');
  const found: Array<{ folder: string; typeOnly: boolean; spec: string }> = [];
  for (const match of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
    const spec = match[2]!;
    if (!spec.startsWith('.')) continue;
    const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
    found.push({ folder: target.split(path.sep)[0]!, typeOnly: Boolean(match[1]), spec });
  }
  return found;
}

describe('architecture (ARCHITECTURE.md)', () => {
  it.each([
    ['parsers', [] as string[]],
    ['rules', ['parsers']],
    ['db', []],
  ])('%s imports only from itself and %j', (folder, allowed) => {
    for (const file of sourceFiles(folder)) {
      for (const imported of importedFolders(file)) {
        if (imported.folder === folder) continue;
        // db may take types (never code) from parsers and rules, and the canonical form of an
        // address, which its queries compare by.
        const typeAllowed = folder === 'db' && imported.typeOnly && ['parsers', 'rules'].includes(imported.folder);
        const addressForm = folder === 'db' && imported.spec.endsWith('/parsers/addresses.js');
        expect(allowed.includes(imported.folder) || typeAllowed || addressForm, `${path.relative(ROOT, file)} imports ${imported.spec}`).toBe(true);
      }
    }
  });

  it('keeps parsers and rules free of I/O, environment, logging and clocks', () => {
    for (const file of [...sourceFiles('parsers'), ...sourceFiles('rules')]) {
      const text = readFileSync(file, 'utf8');
      const name = path.relative(ROOT, file);
      expect(text, name).not.toMatch(/from 'node:(fs|net|http|https|child_process|dns)(\/promises)?'/);
      expect(text, name).not.toMatch(/process\.env|Date\.now\(\)|new Date\(\)|console\.|from 'pino'/);
    }
  });

  it('never lets mailparser types out of parsers/message.ts and its reader, parsers/mail-reader.ts', () => {
    for (const folder of ['parsers', 'rules', 'db', 'daemon']) {
      for (const file of sourceFiles(folder)) {
        if (['message.ts', 'mail-reader.ts'].some((name) => file.endsWith(path.join('parsers', name)))) continue;
        expect(readFileSync(file, 'utf8'), path.relative(ROOT, file)).not.toMatch(/from 'mailparser'/);
      }
    }
  });

  it.each([
    // ticket changes have one home, which the pipeline (mail in) and outbound (mail out) both call
    ['daemon/pipeline', ['daemon/outbound']],
    ['daemon/outbound', ['daemon/pipeline']],
    ['daemon/tickets', ['daemon/pipeline', 'daemon/outbound']],
  ])('%s never imports from %j', (folder, forbidden) => {
    for (const file of sourceFiles(folder)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gms)) {
        const spec = match[1]!;
        if (!spec.startsWith('.')) continue;
        const target = path.relative(ROOT, path.resolve(path.dirname(file), spec));
        expect(forbidden.some((f) => target.startsWith(`${f}/`)), `${path.relative(ROOT, file)} imports ${spec}`).toBe(false);
      }
    }
  });

  it('keeps every database query in db/: nothing else builds SQL', () => {
    for (const folder of ['daemon', 'rules', 'parsers']) {
      for (const file of sourceFiles(folder)) {
        expect(readFileSync(file, 'utf8'), path.relative(ROOT, file)).not.toMatch(/from 'drizzle-orm|from 'postgres'|from '@electric-sql/);
      }
    }
  });
});
