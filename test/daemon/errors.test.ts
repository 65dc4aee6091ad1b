import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../daemon/errors.js';

describe('error code catalogue', () => {
  it('lists exactly the codes of daemon/errors.ts in the README, with the same meaning', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.split('## Error codes')[1]!.split('\n## ')[0]!;
    const documented = Object.fromEntries(
      [...section.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)].map((match) => [match[1]!, match[2]!]),
    );
    expect(documented).toEqual(ERROR_CODES);
  });
});
