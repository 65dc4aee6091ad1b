import { z } from 'zod';
import {
  actionSchema,
  attachmentMatcherSchema,
  categorySchema,
  conditionSchema,
  detectorSchema,
  fieldSchema,
  languageTemplatesSchema,
  mailboxSchema,
  ruleSetSchema,
  templateSchema,
} from './schema.js';

/**
 * Names and descriptions for the editor. The ids become `definitions` entries; the detector's
 * is needed anyway, because a detector contains detectors (`any_of`, `all_of`) and a recursive
 * schema can only be written as a reference.
 */
const DOCUMENTED: Array<[z.ZodType, { id?: string; description: string }]> = [
  [detectorSchema, { id: 'detector', description: 'How a field is recognised in a mail; exactly one kind per detector.' }],
  [attachmentMatcherSchema, { description: 'Which attachments count: content types (image/*) or file name globs (*.png), and how many.' }],
  [conditionSchema, { description: 'All given parts must hold.' }],
  [mailboxSchema, { description: 'A support address customers write to.' }],
  [fieldSchema, { description: 'A detail a request must give: label and hint per language, and how to detect it.' }],
  [categorySchema, { description: 'A kind of request: how a new ticket is matched, its SLA and the fields it requires. The first match wins.' }],
  [templateSchema, { description: 'A mail template: {{name}}, {{#list}}…{{/list}}, {{^name}}…{{/name}}.' }],
  [languageTemplatesSchema, { description: 'The reply texts for one language.' }],
  [actionSchema, { description: 'Notify someone with a named notification template, or add or remove a tag.' }],
];

/**
 * The JSON Schema of the rules file, for editors (yaml-language-server) and other tools. It
 * describes what may be written (`io: 'input'`: defaulted keys are optional). What JSON Schema
 * cannot say is left to the loader: that regexes compile under RE2, cross-references (field and
 * category ids, templates per mailbox language), template syntax, and "a pattern, an attachment
 * matcher, or both" — refinements are dropped, and anything unrepresentable becomes `{}`.
 */
export function rulesJsonSchema(): object {
  const metadata = z.registry<{ id?: string; description?: string }>();
  for (const [schema, meta] of DOCUMENTED) metadata.add(schema, meta);
  const generated = z.toJSONSchema(ruleSetSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: 'any',
    cycles: 'ref',
    reused: 'inline',
    metadata,
    override: ({ zodSchema, jsonSchema }) => {
      // JSON Schema patterns have no flags: zod writes a /…/i regex's source as is, which would
      // make the editor reject "Soporte@Example.com" although the loader accepts it.
      const checks = (zodSchema._zod.def as { checks?: Array<{ _zod: { def: { pattern?: unknown } } }> }).checks ?? [];
      for (const check of checks) {
        const regex = check._zod.def.pattern;
        if (regex instanceof RegExp && regex.flags.includes('i') && jsonSchema.pattern === regex.source) {
          jsonSchema.pattern = caseInsensitiveSource(regex.source);
        }
      }
    },
  });
  return {
    $schema: generated.$schema,
    title: 'mailroom rules',
    description: 'Mailboxes, categories, fields, sensitive data, status automation and reply templates of a mailroom rules file.',
    ...generated,
  };
}

/** The file as committed: two-space indentation and a final newline. */
export function rulesJsonSchemaText(): string {
  return `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`;
}

/**
 * Rewrites a simple regex source so it matches case-insensitively without a flag: ASCII letters
 * outside classes become `[aA]`, and classes gain the other case of their letters and ranges.
 * Enough for the plain patterns the schema uses; escapes are copied untouched.
 */
export function caseInsensitiveSource(source: string): string {
  let out = '';
  let inClass = false;
  let classExtra = '';
  let classStart = 0;
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i]!;
    if (ch === '\\') {
      out += source.slice(i, i + 2);
      i += 1;
      continue;
    }
    if (inClass) {
      if (ch === ']') {
        // At the front of the class: appended after a trailing "-" it would form a range.
        out = `${out.slice(0, classStart)}${classExtra}${out.slice(classStart)}]`;
        inClass = false;
        continue;
      }
      const next = source[i + 1];
      const end = source[i + 2];
      if (/[a-zA-Z]/.test(ch) && next === '-' && end !== undefined && /[a-zA-Z]/.test(end)) {
        out += `${ch}-${end}`;
        classExtra += `${swapCase(ch)}-${swapCase(end)}`;
        i += 2;
        continue;
      }
      if (/[a-zA-Z]/.test(ch)) classExtra += swapCase(ch);
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      classExtra = '';
      out += ch;
      if (source[i + 1] === '^') {
        out += '^';
        i += 1;
      }
      classStart = out.length;
      continue;
    }
    out += /[a-zA-Z]/.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch;
  }
  return out;
}

function swapCase(ch: string): string {
  return ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
}
