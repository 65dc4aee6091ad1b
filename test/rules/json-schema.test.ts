import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { caseInsensitiveSource, rulesJsonSchema, rulesJsonSchemaText } from '../../rules/json-schema.js';
import { formatProblem, loadRuleSet } from '../../rules/load.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const EXAMPLES = ['examples/soporte.es.yaml', 'examples/support.en.yaml'];

interface JsonSchemaNode {
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  pattern?: string;
  definitions?: Record<string, JsonSchemaNode>;
  anyOf?: JsonSchemaNode[];
  $ref?: string;
}

describe('the rules JSON Schema', () => {
  it('is committed as generated', () => {
    expect(read('schema/rules.schema.json'), 'schema/rules.schema.json is out of date: run `npx tsx scripts/write-json-schema.ts`').toBe(
      rulesJsonSchemaText(),
    );
  });

  it('is pretty-printed with two spaces and ends with a newline', () => {
    const text = rulesJsonSchemaText();
    expect(text.startsWith('{\n  "$schema": "http://json-schema.org/draft-07/schema#",\n')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('describes the recursive detector as a definition that refers to itself', () => {
    const schema = rulesJsonSchema() as JsonSchemaNode;
    expect(schema.properties?.fields?.items?.properties?.detect).toEqual({ $ref: '#/definitions/detector' });
    const anyOf = schema.definitions?.detector?.anyOf?.find((variant) => variant.properties?.any_of)?.properties?.any_of;
    expect(anyOf?.items).toEqual({ $ref: '#/definitions/detector' });
  });

  it.each([
    ['soporte@example.com', true],
    ['Soporte@Example.COM', true],
    ['soporte+tag@example.com', false],
    ['not-an-address', false],
  ])('lets editors accept the mailbox address %s as the loader does: %s', (address, valid) => {
    const schema = rulesJsonSchema() as JsonSchemaNode;
    const pattern = schema.properties!.mailboxes!.items!.properties!.address!.pattern!;
    expect(new RegExp(pattern, 'u').test(address)).toBe(valid);
    const yaml = `mailboxes:\n  - address: ${address}\n    name: A\n`;
    expect(loadRuleSet(yaml, 'rules.yaml').ok).toBe(valid);
  });

  it.each([
    ['^[a-z0-9.-]+$', '^[A-Za-z0-9.-]+$'],
    ['^ab\\.c$', '^[aA][bB]\\.[cC]$'],
    ['[^\\s@]x', '[^\\s@][xX]'],
    ['[^a]', '[^Aa]'],
  ])('rewrites the case-insensitive pattern %s as %s', (source, expected) => {
    expect(caseInsensitiveSource(source)).toBe(expected);
  });
});

describe('the example rules files', () => {
  it.each(EXAMPLES)('%s loads with zero problems', (path) => {
    const result = loadRuleSet(read(path), path);
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
  });

  it.each(EXAMPLES)('%s names the JSON Schema on its first line', (path) => {
    expect(read(path).split('\n')[0]).toBe('# yaml-language-server: $schema=../schema/rules.schema.json');
  });
});
