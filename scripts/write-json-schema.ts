/**
 * Writes schema/rules.schema.json, the JSON Schema editors use to check rules files (see the
 * first line of examples/*.yaml). Run after changing rules/schema.ts:
 *
 *   npx tsx scripts/write-json-schema.ts
 *
 * test/rules/json-schema.test.ts fails while the committed file and the schema disagree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { rulesJsonSchemaText } from '../rules/json-schema.js';

const target = fileURLToPath(new URL('../schema/rules.schema.json', import.meta.url));
writeFileSync(target, rulesJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
