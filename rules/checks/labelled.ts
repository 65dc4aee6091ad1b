import { nextNonBlank, startsFieldBlock } from '../../parsers/reply-patterns.js';
import type { Detector, Field } from '../schema.js';
import { clipText } from './check-input.js';
import { normalizeLabel } from './label-text.js';

/** A label longer than this is not a label: "Ayer por la tarde intenté enviar: …" is prose. */
const MAX_LABEL_CHARS = 60;
/**
 * Every label and alias of every field, in every language of the file, to its field. Fields that
 * only an attachment gives are left out: "Capturas: adjuntas" is not a screenshot.
 */
export function labelIndex(fields: readonly Field[]): Map<string, Field> {
  const index = new Map<string, Field>();
  for (const field of fields) {
    if (!takesWrittenAnswer(field.detect)) continue;
    const names = [...Object.values(field.label), ...Object.values(field.aliases ?? {}).flat()];
    for (const name of names) {
      const key = normalizeLabel(name);
      if (key && !index.has(key)) index.set(key, field);
    }
  }
  return index;
}

/** A bullet or a list number before a label ("- Cuándo:", "2) Dónde:"). */
const BULLET = /^\s*(?:[-*•·–—]|\d{1,2}[.)])\s*/u;

export interface LabelledAnswer {
  /** What follows the label, as the customer wrote it (without a closing full stop). */
  value: string;
}

const indexes = new WeakMap<readonly Field[], Map<string, Field>>();

/**
 * Answers the customer wrote under a field's label, the way the guidelines ask for them: a line
 * `<label>: <value>`, or a line holding only the label with the value on the next line. Labels
 * and aliases of every language count, whatever the mailbox's language. The first answer per
 * field wins; an empty value, or one that repeats the field's own hint (our request quoted back
 * without a quote marker), is no answer.
 */
export function findLabelledAnswers(fields: readonly Field[], visibleText: string): Map<string, LabelledAnswer> {
  let index = indexes.get(fields);
  if (!index) {
    index = labelIndex(fields);
    indexes.set(fields, index);
  }
  const found = new Map<string, LabelledAnswer>();
  if (index.size === 0) return found;
  const lines = beforeHeaderBlock(clipText(visibleText).split(/\r?\n/));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*>/.test(line)) continue;
    const labelled = readLabel(line);
    const field = labelled ? index.get(normalizeLabel(labelled.label)) : undefined;
    if (!labelled || !field || found.has(field.id)) continue;
    let value = labelled.rest.trim();
    if (!value) {
      // the label on its own line: the answer is the next line that says something
      // (a scan to the next non-blank line, never a copy of the rest: linear over the whole text)
      const at = nextNonBlank(lines, i + 1);
      const next = at === -1 ? undefined : lines[at]!;
      if (next === undefined || /^\s*>/.test(next) || isLabelLine(next, index)) continue;
      value = next.trim();
    }
    value = value.replace(/[\s.,;]+$/u, '');
    if (!/[\p{L}\p{N}]/u.test(value) || repeatsHint(value, field)) continue;
    found.set(field.id, { value });
  }
  return found;
}

/**
 * The lines before a quoted or forwarded mail's header block ("De:/Fecha:/Asunto:"), found the
 * way the visible-reply extraction finds it: if that block reached this text anyway, its
 * "Fecha:" line must not answer "when" for the customer.
 */
function beforeHeaderBlock(lines: string[]): string[] {
  for (let i = 0; i < lines.length; i++) if (startsFieldBlock(lines, i)) return lines.slice(0, i);
  return lines;
}

function takesWrittenAnswer(detector: Detector): boolean {
  if ('attachment' in detector) return false;
  if ('any_of' in detector) return detector.any_of.some(takesWrittenAnswer);
  if ('all_of' in detector) return detector.all_of.every(takesWrittenAnswer);
  return true;
}

/**
 * The label a line starts with and what follows it: "Cuándo: ayer" is ("Cuándo", "ayer"); a short
 * line without a colon may be a label alone ("Cuándo", ""); null for a long line without one.
 */
function readLabel(line: string): { label: string; rest: string } | null {
  const body = line.replace(BULLET, '');
  const colon = /^([^:：\n]{1,60}?)\s*[:：]\s*(.*)$/u.exec(body);
  if (colon) return { label: colon[1]!, rest: colon[2]! };
  return body.length <= MAX_LABEL_CHARS && body.trim() !== '' ? { label: body, rest: '' } : null;
}

function isLabelLine(line: string, index: Map<string, Field>): boolean {
  const labelled = readLabel(line);
  return labelled !== null && index.has(normalizeLabel(labelled.label));
}

/** The value starts like the field's hint in some language: our own request, not the customer's words. */
function repeatsHint(value: string, field: Field): boolean {
  const start = normalizeLabel(value).slice(0, 40);
  if (start.length < 12) return false;
  return Object.values(field.hint ?? {}).some((hint) => normalizeLabel(hint).startsWith(start));
}
