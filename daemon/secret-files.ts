/** The variables that may instead name a file holding their value (`DATABASE_URL_FILE`), as Docker and Kubernetes secrets are mounted. */
export const FILE_VARIABLES = ['MAILROOM_SECRET', 'DATABASE_URL', 'MAILROOM_API_TOKEN'] as const;

export type ReadTextFile = (file: string) => string;

export interface ResolvedSecretFiles {
  /** The environment with each `X_FILE` replaced by `X` holding the file's text. */
  env: Record<string, string | undefined>;
  /** The variables whose value came from a file, for naming them in problems. */
  fromFile: Set<string>;
  problems: string[];
}

export function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/** Reads each `X_FILE` into `X`; the file is read with `read`, so the caller decides what a file is (tests pass real ones). */
export function resolveSecretFiles(env: Record<string, string | undefined>, read: ReadTextFile): ResolvedSecretFiles {
  const resolved = { ...env };
  const fromFile = new Set<string>();
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const file = env[`${name}_FILE`];
    delete resolved[`${name}_FILE`];
    if (isBlank(file)) continue;
    if (!isBlank(env[name])) {
      problems.push(`${name} and ${name}_FILE: set one or the other`);
      continue;
    }
    let text: string;
    try {
      text = read(file!.trim());
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${file!.trim()} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    // Editors and `echo` end the file with a newline; it is not part of the secret.
    const value = text.replace(/[\r\n]+$/, '');
    if (isBlank(value)) {
      problems.push(`${name}_FILE: ${file!.trim()} is empty`);
      continue;
    }
    resolved[name] = value;
    fromFile.add(name);
  }
  return { env: resolved, fromFile, problems };
}
