import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's or the image's root; compiled, this file sits one folder deeper, in `dist/`. */
const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/dist\/$/, '');
let version: string | undefined;

/** The version in package.json: the one the checkout or the image was installed from. */
export function packageVersion(): string {
  // Read once: the daemon runs every forwarded command through the program that asks for it.
  version ??= (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
