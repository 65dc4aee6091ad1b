#!/usr/bin/env node
// Runs the TypeScript sources through tsx when it is installed (a checkout after `npm ci`), so
// `npm start` and `npx mailroom` need no build step; a production image built with
// `npm ci --omit=dev` has no tsx and runs the compiled dist/ instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
let entry;
try {
  const { register } = await import('tsx/esm/api');
  register();
  entry = new URL('../daemon/main.ts', import.meta.url).href;
} catch {
  const compiled = `${root}dist/daemon/main.js`;
  if (!existsSync(compiled)) {
    process.stderr.write('mailroom: neither tsx nor a build in dist/ was found; run `npm ci` or `npm run build`\n');
    process.exit(70);
  }
  entry = new URL('../dist/daemon/main.js', import.meta.url).href;
}
await import(entry);
