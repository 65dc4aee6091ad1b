import { clipText, MAX_SCAN_CHARS, type CheckInput } from './checks/check-input.js';
import { matchAttachments } from './checks/attachment.js';
import { detectField } from './checks/detect.js';
import { foldText } from './checks/fold-text.js';
import { findKeyword } from './checks/keywords.js';
import { findLabelledAnswers } from './checks/labelled.js';
import { countCharacters } from './checks/min-length.js';
import { compileRegex } from './compile-regex.js';
import { redactSensitive } from './redact.js';
import { localize } from './localize.js';
import { isOwnAddress } from './mailboxes.js';
import type { Category, Condition, Field, Mailbox, RuleSet } from './schema.js';
import type { FoundField, MissingItem, RuleMessage, SensitiveFinding, TicketFacts, Verdict } from './verdict.js';

const HOUR_MS = 3_600_000;
const DEFAULT_TOO_SHORT = 'a longer description of the problem';

/**
 * Checks one customer mail against the rules: the ticket's category and SLA, the fields given
 * so far, what is still missing, and sensitive data. Pure; `now` only sets the SLA due time.
 */
export function evaluateRules(message: RuleMessage, ticket: TicketFacts, ruleSet: RuleSet, mailbox: Mailbox, now: Date): Verdict {
  const language = mailbox.language;
  // Detectors read the redacted text, so no field value stored on the ticket can carry a
  // password the customer pasted next to it. They read the first MAX_SCAN_CHARS only; what is
  // stored is redacted whole, by the caller (redactionSteps).
  const redactedVisibleText = redactForDetectors(message.visibleText, message, ruleSet);
  const subject = redactForDetectors(message.subject, message, ruleSet);
  const input = createCheckInput({ ...message, subject, visibleText: redactedVisibleText }, ruleSet);

  // The category is fixed when the ticket opens: a reply that happens to mention "factura" must
  // not move a design ticket to billing, nor change which details were asked for.
  const category = ticket.isNew ? chooseCategory(message, input, ruleSet, mailbox) : findCategory(ruleSet, ticket.category);
  const categoryId = ticket.isNew ? (category?.id ?? null) : ticket.category;
  const slaHours = ticket.isNew ? (category?.sla_hours ?? null) : null;

  // What the customer wrote under a field's label is that field's value, whatever the detector
  // would make of it: "Cómo: creé el envío y pulsé Enviar" answers "cómo", steps numbered or not.
  const labelled = findLabelledAnswers(ruleSet.fields, redactedVisibleText);
  const found: Record<string, FoundField> = {};
  for (const field of ruleSet.fields) {
    const answer = labelled.get(field.id);
    const detected = answer ? { value: answer.value } : detectField(field.detect, input);
    if (detected) found[field.id] = detected;
  }
  const fields = { ...ticket.fields, ...found };

  const missing: MissingItem[] = requiredFields(ruleSet, category)
    .filter((field) => !field.required_when || conditionHolds(field.required_when, categoryId, fields, input))
    .filter((field) => !(field.id in fields))
    .map((field) => ({ id: field.id, label: localize(field.label, language), hint: localize(field.hint, language) }));

  const lengthProblem = ticket.isNew ? checkLength(message.visibleText, ruleSet) : null;
  // Too long does not block: the customer has said more than enough to act on (often a pasted
  // log), and asking them to rewrite it would only park an actionable ticket as pending. The
  // verdict still reports it so the plan can record it for the agents.
  if (lengthProblem === 'too_short') {
    missing.push({ id: 'message_length', label: ruleSet.templates[language]?.too_short ?? DEFAULT_TOO_SHORT, hint: '' });
  }

  return {
    language,
    category: categoryId === null ? null : { id: categoryId, label: category ? localize(category.label, language) : categoryId },
    slaHours,
    slaDueAt: slaHours === null ? null : new Date(now.getTime() + slaHours * HOUR_MS),
    responseTime: category ? responseTimeText(category, ruleSet, language) : null,
    found,
    fields,
    missing,
    lengthProblem,
    sensitive: findSensitive(message, ruleSet, language),
    redactedVisibleText,
  };
}

/**
 * The scanned prefix of a text, redacted. When the caller redacted the whole text with these
 * rules and nothing matched, the text is its own redaction, and one within the scan limit is
 * its own prefix: redacting it again would give it back unchanged, so it is not done.
 */
function redactForDetectors(text: string, message: RuleMessage, ruleSet: RuleSet): string {
  if (message.sensitiveFound?.size === 0 && text.length <= MAX_SCAN_CHARS) return text;
  return redactSensitive(clipText(text), ruleSet);
}

function createCheckInput(message: RuleMessage, ruleSet: RuleSet): CheckInput {
  const text = clipText(`${clipText(message.subject)}\n${clipText(message.visibleText)}`, MAX_SCAN_CHARS);
  const sender = message.fromAddress.toLowerCase();
  let folded: string | null = null;
  return {
    text,
    visibleText: clipText(message.visibleText),
    attachments: message.attachments,
    foldedText: () => (folded ??= foldText(text)),
    isExcludedAddress: (address) => address === sender || isOwnAddress(ruleSet, address),
  };
}

function findCategory(ruleSet: RuleSet, id: string | null): Category | null {
  return id === null ? null : (ruleSet.categories.find((category) => category.id === id) ?? null);
}

/** First category whose `match` holds, else the mailbox's default, else the `default: true` one. */
function chooseCategory(message: RuleMessage, input: CheckInput, ruleSet: RuleSet, mailbox: Mailbox): Category | null {
  return (
    ruleSet.categories.find((category) => isCategoryMatch(category, message, input)) ??
    findCategory(ruleSet, mailbox.default_category ?? null) ??
    ruleSet.categories.find((category) => category.default) ??
    null
  );
}

/**
 * Every given criterion must hold; within a list any entry does. A category with no criteria
 * never matches by content (it is reached only as a default): otherwise a bare "other" category
 * listed first would swallow every mail.
 */
function isCategoryMatch(category: Category, message: RuleMessage, input: CheckInput): boolean {
  const match = category.match;
  if (!match) return false;
  const checks: Array<() => boolean> = [];
  if (match.mailboxes) checks.push(() => match.mailboxes!.includes(message.mailbox.toLowerCase()));
  if (match.tags) checks.push(() => message.tags.some((tag) => match.tags!.includes(tag.toLowerCase())));
  if (match.keywords) checks.push(() => findKeyword(input.foldedText(), match.keywords!) !== null);
  if (match.subject_regex) checks.push(() => compileRegex(match.subject_regex!).test(clipText(message.subject)));
  if (match.body_regex) checks.push(() => compileRegex(match.body_regex!).test(input.visibleText));
  if (match.sender_domains) checks.push(() => isSenderDomain(message.fromAddress, match.sender_domains!));
  return checks.length > 0 && checks.every((check) => check());
}

/** The sender's domain is one of these or a subdomain of one (`mail.acme.com` for `acme.com`). */
function isSenderDomain(fromAddress: string, domains: readonly string[]): boolean {
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase();
  if (!domain) return false;
  return domains.some((wanted) => domain === wanted || domain.endsWith(`.${wanted}`));
}

/** `required_fields` then the category's fields, in that order, each once. */
function requiredFields(ruleSet: RuleSet, category: Category | null): Field[] {
  const ids = [...new Set([...ruleSet.required_fields, ...(category?.fields ?? [])])];
  const byId = new Map(ruleSet.fields.map((field) => [field.id, field]));
  return ids.map((id) => byId.get(id)).filter((field): field is Field => field !== undefined);
}

/**
 * All given parts must hold. `body_matches` looks at this mail only (earlier mails are not
 * available here), so a field required because of what the first mail said stops being asked
 * for once a reply no longer says it.
 */
function conditionHolds(condition: Condition, categoryId: string | null, fields: Record<string, FoundField>, input: CheckInput): boolean {
  if (condition.category && (categoryId === null || !condition.category.includes(categoryId))) return false;
  if (condition.field) {
    const given = fields[condition.field.id];
    if (!given) return false;
    if (condition.field.matches !== undefined && (given.value === null || !compileRegex(condition.field.matches).test(given.value))) return false;
  }
  if (condition.body_matches !== undefined && !compileRegex(condition.body_matches).test(input.text)) return false;
  return true;
}

/** Limits on a new ticket's first message, measured on the trimmed visible text. */
function checkLength(visibleText: string, ruleSet: RuleSet): Verdict['lengthProblem'] {
  const { min_length: min, max_length: max } = ruleSet.message;
  if (min === undefined && max === undefined) return null;
  const length = countCharacters(visibleText.trim(), Math.max(min ?? 0, max ?? 0) + 1);
  if (min !== undefined && length < min) return 'too_short';
  if (max !== undefined && length > max) return 'too_long';
  return null;
}

/**
 * The category's own words for the language; else its SLA in the language's `hours` words;
 * else its words in another language; null without either.
 */
export function responseTimeText(category: Category, ruleSet: RuleSet, language: string): string | null {
  const base = language.split('-')[0] ?? language;
  const own = category.response_time?.[language] ?? category.response_time?.[base];
  if (own) return own;
  if (category.sla_hours !== undefined) {
    const words = ruleSet.templates[language]?.hours ?? '{hours} h';
    const hours = hoursFormat(language).format(category.sla_hours);
    return words.split('{hours}').join(hours);
  }
  return category.response_time ? localize(category.response_time, language) || null : null;
}

/** One formatter per language: building an Intl.NumberFormat costs more than the rest of a mail's plan. */
const hoursFormats = new Map<string, Intl.NumberFormat>();
function hoursFormat(language: string): Intl.NumberFormat {
  let format = hoursFormats.get(language);
  if (!format) {
    format = new Intl.NumberFormat(language, { maximumFractionDigits: 2 });
    hoursFormats.set(language, format);
  }
  return format;
}

function findSensitive(message: RuleMessage, ruleSet: RuleSet, language: string): SensitiveFinding[] {
  const findings: SensitiveFinding[] = [];
  for (const entry of ruleSet.sensitive) {
    const pattern = entry.pattern === undefined ? null : compileRegex(entry.pattern);
    // The whole text, like the redaction, when the caller has redacted it; else the scanned prefix.
    const inText = message.sensitiveFound
      ? message.sensitiveFound.has(entry.id)
      : pattern !== null && (pattern.test(clipText(message.subject)) || pattern.test(clipText(message.visibleText)));
    const attachmentIndexes = entry.attachment ? matchAttachments(entry.attachment, message.attachments) : [];
    if (inText || attachmentIndexes.length > 0) {
      findings.push({ id: entry.id, label: localize(entry.label, language), inText, attachmentIndexes });
    }
  }
  return findings;
}
