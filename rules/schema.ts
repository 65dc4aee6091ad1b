import { RE2JS } from 're2js';
import { z } from 'zod';
import { normalizeLabel } from './checks/label-text.js';
import { templateProblems, variablesFor, type MailKindForTemplates } from './templates/template.js';
import { webhooksSchema } from './webhook-schema.js';

/**
 * The admins' YAML file. Every object is strict so a typo in a key is an error, never a silent
 * default. Regexes are compiled with RE2 (linear time: no admin regex can hang the daemon).
 */

const language = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'a language tag such as "es" or "en-GB"');
const slug = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lower-case letters, digits and "_", starting with a letter');

const emailAddress = z
  .string()
  .regex(/^[^\s@+<>()",;:]+@[a-z0-9.-]+\.[a-z]{2,}$/i, 'a plain address such as "soporte@example.com", without "+"');

/**
 * Who works the tickets: an address, or `@domain` for everyone at a domain. Their replies by mail
 * to the alerts mailroom sent them are agent replies, not customer mail.
 */
const agentAddress = z
  .string()
  .regex(/^([^\s@+<>()",;:]+)?@[a-z0-9.-]+\.[a-z]{2,}$/i, 'an address such as "ana@example.com", or "@example.com" for a whole domain')
  .transform((value) => value.toLowerCase());

/** Text per language, e.g. `{ es: "número de cuenta", en: "account number" }`. */
const localized = z.record(language, z.string().min(1));

/** An RE2 regular expression (no backreferences or lookaround); `(?i)` for case-insensitive. */
export const regexSource = z.string().min(1).superRefine((source, ctx) => {
  try {
    RE2JS.compile(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${(err as Error).message}` });
  }
});

const status = z.enum(['new', 'open', 'pending', 'on_hold', 'solved', 'closed']);

/** Which attachments count: content types (`image/*`), file name globs (`*.png`), how many. */
export const attachmentMatcherSchema = z.strictObject({
  content_types: z.array(z.string().min(1)).optional(),
  filenames: z.array(z.string().min(1)).optional(),
  /** @defaultValue 1 */
  min_count: z.number().int().min(1).default(1),
});

/** How a field is recognised in a customer's mail; exactly one kind per detector. */
export type Detector =
  | { regex: string }
  | { keywords: string[] }
  | { attachment: z.output<typeof attachmentMatcherSchema> }
  | { email: true }
  | { date: true }
  | { min_length: number }
  | { any_of: Detector[] }
  | { all_of: Detector[] };

export const detectorSchema: z.ZodType<Detector> = z.lazy(() =>
  z.union([
    /** A match anywhere in the subject or visible text; a named group `value` is kept as the value. */
    z.strictObject({ regex: regexSource }),
    /** Any of these words or phrases (case and accent insensitive, whole words). */
    z.strictObject({ keywords: z.array(z.string().min(1)).min(1) }),
    z.strictObject({ attachment: attachmentMatcherSchema }),
    /** An email address other than the sender's and mailroom's own. */
    z.strictObject({ email: z.literal(true) }),
    /** A date or time expression ("12/03/2026", "ayer", "since Monday", "10:30"). */
    z.strictObject({ date: z.literal(true) }),
    /** At least this many characters of visible text. */
    z.strictObject({ min_length: z.number().int().min(1) }),
    z.strictObject({ any_of: z.array(detectorSchema).min(1) }),
    z.strictObject({ all_of: z.array(detectorSchema).min(1) }),
  ]),
);

/** All given parts must hold. */
export const conditionSchema = z.strictObject({
  /** The ticket's category is one of these. */
  category: z.array(slug).min(1).optional(),
  /** Another field was given (and, with `matches`, its value matches). */
  field: z.strictObject({ id: slug, matches: regexSource.optional() }).optional(),
  /** The subject or visible text matches. */
  body_matches: regexSource.optional(),
});

export const fieldSchema = z.strictObject({
  id: slug,
  label: localized,
  /**
   * Other names customers give the field, per language. A line `<label or alias>: <value>` (or
   * the label alone on a line, the value on the next) gives the field, in any language of the file.
   */
  aliases: z.record(language, z.array(z.string().min(1).max(60)).min(1)).optional(),
  /** What to give and where to find it, e.g. "top left of your account page". */
  hint: localized.optional(),
  detect: detectorSchema,
  /** Required only when this holds (on top of being listed by the category or `required_fields`). */
  required_when: conditionSchema.optional(),
  /**
   * `customer`: a fact about the customer (account, project), which a new ticket of theirs takes
   * from their latest ticket that has it, instead of asking again. `ticket` (default): a fact
   * about this problem, asked for on every ticket.
   */
  scope: z.enum(['ticket', 'customer']).default('ticket'),
});

export const categorySchema = z.strictObject({
  id: slug,
  label: localized,
  /** Every given criterion must match; within a list any entry matches. First category that matches wins. */
  match: z
    .strictObject({
      mailboxes: z.array(emailAddress.transform((v) => v.toLowerCase())).min(1).optional(),
      /** Plus-address tags: `soporte+facturas@` has tag `facturas`. */
      tags: z.array(z.string().min(1).transform((v) => v.toLowerCase())).min(1).optional(),
      /** Words or phrases in the subject or visible text. */
      keywords: z.array(z.string().min(1)).min(1).optional(),
      subject_regex: regexSource.optional(),
      body_regex: regexSource.optional(),
      sender_domains: z.array(z.string().min(1).transform((v) => v.toLowerCase())).min(1).optional(),
    })
    .optional(),
  /** The category of mail no other category matches. At most one. */
  default: z.boolean().default(false),
  /** First-response target; sets the ticket's SLA due time. */
  sla_hours: z.number().positive().optional(),
  /** How the acknowledgement states the expected response time, e.g. "24–48 h"; default from sla_hours. */
  response_time: localized.optional(),
  /** Field ids this category requires (besides `required_fields`). */
  fields: z.array(slug).default([]),
});

export const templateSchema = z.strictObject({ subject: z.string().min(1), body: z.string().min(1) });

export const languageTemplatesSchema = z.strictObject({
  acknowledgement: templateSchema,
  missing_details: templateSchema,
  /** A new ticket that also misses details gets this one mail, not two. */
  acknowledgement_missing_details: templateSchema,
  /** Sent alone only when no other mail answers the message; otherwise `sensitive_notice` goes inside that mail. */
  sensitive_warning: templateSchema,
  /**
   * The warning about sensitive data as a paragraph of the one mail that answers the message: put
   * `{{sensitive_notice}}` in the reply templates, or it is added at the end of the body. Without
   * it, the body of `sensitive_warning` is used.
   */
  sensitive_notice: z.string().min(1).optional(),
  /** Named templates for `notify` actions. */
  notifications: z.record(slug, templateSchema).default({}),
  /** Words the templates use for the expected response time; `{hours}` is replaced. @defaultValue "{hours} h" */
  hours: z.string().min(1).default('{hours} h'),
  /** Lines listed as missing when the message is too short or too long. */
  too_short: z.string().min(1).optional(),
  too_long: z.string().min(1).optional(),
});

export const actionSchema = z.union([
  z.strictObject({ notify: z.union([z.literal('requester'), emailAddress]), template: slug }),
  z.strictObject({ add_tag: z.string().min(1) }),
  z.strictObject({ remove_tag: z.string().min(1) }),
]);

const windowLimit = z.strictObject({ minutes: z.number().int().positive(), max: z.number().int().min(0) });

export const mailboxSchema = z.strictObject({
  /** The support address customers write to. */
  address: emailAddress.transform((value) => value.toLowerCase()),
  /** Display name used on mail sent from this mailbox. */
  name: z.string().min(1).max(200),
  /** Language of templates and replies for this mailbox. @defaultValue "en" */
  language: language.default('en'),
  /** Category for new tickets of this mailbox when no category matches. */
  default_category: slug.optional(),
  /** Whether a new ticket gets an acknowledgement. @defaultValue true */
  acknowledge: z.boolean().default(true),
  /** Agents of this mailbox, besides the global `agents`. */
  agents: z.array(agentAddress).default([]),
});

export const threadingSchema = z.strictObject({
  /**
   * A reply whose headers or subject token name a ticket its sender is not a participant of:
   * open a new ticket linked to the original (default) or append it anyway.
   */
  stranger_reply: z.enum(['new_ticket', 'append']).default('new_ticket'),
});

const DEFAULT_LIMITS = {
  per_ticket: [{ minutes: 60, max: 3 }],
  per_recipient: [
    { minutes: 60, max: 10 },
    { minutes: 1440, max: 30 },
  ],
  per_domain: [{ minutes: 60, max: 500 }],
  total: [{ minutes: 60, max: 5000 }],
  max_detail_requests: 2,
};

export const ruleSetSchema = z
  .strictObject({
    $schema: z.string().optional(),
    mailboxes: z.array(mailboxSchema).min(1, 'at least one mailbox is needed'),
    threading: threadingSchema.default({ stranger_reply: 'new_ticket' }),
    /** What mailroom believes of a sender. */
    security: z
      .strictObject({
        /**
         * Mail whose From fails DMARC, or for a domain without DMARC has no SPF or DKIM pass
         * aligned with it: `restrict` (default) files it on a ticket of its own, tagged
         * `unverified_sender`, with no automatic mail and no change to any other ticket; `trust`
         * treats it like any mail (for a mailroom behind a gateway that already checked).
         */
        unverified_sender: z.enum(['restrict', 'trust']).default('restrict'),
        /**
         * Mail whose From fails DMARC under the domain's `p=reject`: `suspend` (default) keeps it
         * aside for an operator (`mailroom suspended`), no ticket and no mail; `restrict` files it
         * like other unverified mail.
         */
        dmarc_reject: z.enum(['suspend', 'restrict']).default('suspend'),
        /**
         * A spam verdict of the trusted relay in front (X-Spam-Flag, X-Spam-Status, X-Spam,
         * Rspamd's action): `suspend` (default) keeps the mail aside; `ignore` files it as usual.
         * Mail from other clients is never judged by such headers: anyone can write them.
         */
        upstream_spam: z.enum(['suspend', 'ignore']).default('suspend'),
      })
      .default({ unverified_sender: 'restrict', dmarc_reject: 'suspend', upstream_spam: 'suspend' }),
    /** Agents of every mailbox: an address, or `@domain`. */
    agents: z.array(agentAddress).default([]),
    /** Field ids every request must give, whatever its category. */
    required_fields: z.array(slug).default([]),
    fields: z.array(fieldSchema).default([]),
    categories: z.array(categorySchema).default([]),
    /** Limits on the visible text of the first message of a ticket. */
    message: z
      .strictObject({ min_length: z.number().int().min(0).optional(), max_length: z.number().int().positive().optional() })
      .default({}),
    /** Data customers must never send: redacted, warned about, tagged `sensitive_data`. */
    sensitive: z
      .array(
        z
          .strictObject({ id: slug, label: localized, pattern: regexSource.optional(), attachment: attachmentMatcherSchema.optional() })
          .refine((s) => s.pattern !== undefined || s.attachment !== undefined, 'give a pattern, an attachment matcher, or both'),
      )
      .default([]),
    status: z
      .strictObject({
        /** @defaultValue open */
        on_customer_reply: status.default('open'),
        /** @defaultValue pending */
        on_agent_reply: status.default('pending'),
        /** Actions when a ticket enters a status. */
        on_enter: z.partialRecord(status, z.array(actionSchema)).default({}),
      })
      .default({ on_customer_reply: 'open', on_agent_reply: 'pending', on_enter: {} }),
    auto_replies: z
      .strictObject({
        /** At most `max` automatic mails per ticket within each window. */
        per_ticket: z.array(windowLimit).default(DEFAULT_LIMITS.per_ticket),
        /** At most `max` automatic mails to one address within each window (`Ana+x@` and `ana@` are one). */
        per_recipient: z.array(windowLimit).default(DEFAULT_LIMITS.per_recipient),
        /** At most `max` automatic mails to one domain within each window. */
        per_domain: z.array(windowLimit).default(DEFAULT_LIMITS.per_domain),
        /** At most `max` automatic mails in all within each window. */
        total: z.array(windowLimit).default(DEFAULT_LIMITS.total),
        /** How many times one ticket is asked for missing details. */
        max_detail_requests: z.number().int().min(0).default(DEFAULT_LIMITS.max_detail_requests),
      })
      .default(DEFAULT_LIMITS),
    /** Reply texts per language. A mailbox's language must have templates. */
    templates: z.record(language, languageTemplatesSchema).default({}),
    /** Systems told about ticket changes by signed HTTP POSTs (README, Webhooks). */
    webhooks: webhooksSchema,
  })
  .superRefine(checkReferences);

export type RuleSet = z.output<typeof ruleSetSchema>;
export type Mailbox = z.output<typeof mailboxSchema>;
export type Field = z.output<typeof fieldSchema>;
export type Category = z.output<typeof categorySchema>;
export type Condition = z.output<typeof conditionSchema>;
export type Action = z.output<typeof actionSchema>;
export type Template = z.output<typeof templateSchema>;
export type LanguageTemplates = z.output<typeof languageTemplatesSchema>;
export type AttachmentMatcher = z.output<typeof attachmentMatcherSchema>;
export type TicketStatusName = z.output<typeof status>;

type RuleSetInput = Omit<RuleSet, never>;

/** Cross-references a schema cannot express: ids that must exist, templates that must parse. */
function checkReferences(value: RuleSetInput, ctx: z.RefinementCtx): void {
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const seen = new Set<string>();
  value.mailboxes.forEach((mailbox, i) => {
    if (seen.has(mailbox.address)) issue(['mailboxes', i, 'address'], `duplicate mailbox ${mailbox.address}`);
    seen.add(mailbox.address);
  });
  // An agent address that is also ours would make mailroom's own mail an agent's reply.
  const ownDomains = new Set(value.mailboxes.map((mailbox) => mailbox.address.toLowerCase().split('@')[1]));
  const agentLists: Array<[Array<string | number>, string[] | undefined]> = [[['agents'], value.agents], ...value.mailboxes.map((m, i): [Array<string | number>, string[] | undefined] => [['mailboxes', i, 'agents'], m.agents])];
  for (const [path, list] of agentLists) {
    (list ?? []).forEach((entry, j) => {
      const [local, domain] = entry.toLowerCase().split('@');
      if (local === '' && ownDomains.has(domain)) issue([...path, j], `"${entry}" would include mailroom's own addresses (a mailbox or its bounce address); list the agents one by one`);
      else if (seen.has(entry.toLowerCase()) || (local === 'bounces' && ownDomains.has(domain))) issue([...path, j], `"${entry}" is one of mailroom's own addresses, not an agent`);
    });
  }
  const fieldIds = new Set<string>();
  value.fields.forEach((field, i) => {
    if (fieldIds.has(field.id)) issue(['fields', i, 'id'], `duplicate field id "${field.id}"`);
    fieldIds.add(field.id);
  });
  const labelOwners = new Map<string, string>();
  value.fields.forEach((field, i) => {
    const names: Array<[Array<string | number>, string]> = [
      ...Object.entries(field.label).map(([lang, text]): [Array<string | number>, string] => [['fields', i, 'label', lang], text]),
      ...Object.entries(field.aliases ?? {}).flatMap(([lang, list]) => list.map((text, j): [Array<string | number>, string] => [['fields', i, 'aliases', lang, j], text])),
    ];
    for (const [path, text] of names) {
      const key = normalizeLabel(text);
      const owner = labelOwners.get(key);
      if (owner !== undefined && owner !== field.id) issue(path, `"${text}" already names field "${owner}": a labelled answer could not tell them apart`);
      else labelOwners.set(key, field.id);
    }
  });
  const categoryIds = new Set<string>();
  value.categories.forEach((category, i) => {
    if (categoryIds.has(category.id)) issue(['categories', i, 'id'], `duplicate category id "${category.id}"`);
    categoryIds.add(category.id);
  });
  const unknownField = (id: string) => `unknown field "${id}"; fields are: ${[...fieldIds].join(', ') || '(none)'}`;
  value.required_fields.forEach((id, i) => {
    if (!fieldIds.has(id)) issue(['required_fields', i], unknownField(id));
  });
  value.categories.forEach((category, i) => {
    category.fields.forEach((id, j) => {
      if (!fieldIds.has(id)) issue(['categories', i, 'fields', j], unknownField(id));
    });
  });
  const defaults = value.categories.filter((c) => c.default);
  if (defaults.length > 1) issue(['categories'], `only one category may be the default; ${defaults.map((c) => c.id).join(', ')} are`);
  value.fields.forEach((field, i) => {
    const when = field.required_when;
    when?.category?.forEach((id, j) => {
      if (!categoryIds.has(id)) issue(['fields', i, 'required_when', 'category', j], `unknown category "${id}"`);
    });
    if (when?.field && !fieldIds.has(when.field.id)) issue(['fields', i, 'required_when', 'field', 'id'], unknownField(when.field.id));
  });
  value.mailboxes.forEach((mailbox, i) => {
    if (mailbox.default_category && !categoryIds.has(mailbox.default_category)) {
      issue(['mailboxes', i, 'default_category'], `unknown category "${mailbox.default_category}"`);
    }
    if (Object.keys(value.templates).length > 0 && !value.templates[mailbox.language]) {
      issue(['mailboxes', i, 'language'], `no templates for language "${mailbox.language}"`);
    }
  });
  for (const [lang, templates] of Object.entries(value.templates)) {
    const named: Array<[string, { subject: string; body: string }, MailKindForTemplates]> = [
      ['acknowledgement', templates.acknowledgement, 'reply'],
      ['missing_details', templates.missing_details, 'reply'],
      ['acknowledgement_missing_details', templates.acknowledgement_missing_details, 'reply'],
      ['sensitive_warning', templates.sensitive_warning, 'sensitive_warning'],
      ...Object.entries(templates.notifications).map(([name, t]): [string, { subject: string; body: string }, MailKindForTemplates] => [`notifications.${name}`, t, 'notification']),
    ];
    for (const [name, template, kind] of named) {
      for (const part of ['subject', 'body'] as const) {
        for (const problem of templateProblems(template[part], variablesFor(kind))) {
          issue(['templates', lang, ...name.split('.'), part], problem);
        }
      }
    }
    if (templates.sensitive_notice !== undefined) {
      for (const problem of templateProblems(templates.sensitive_notice, variablesFor('sensitive_notice'))) issue(['templates', lang, 'sensitive_notice'], problem);
    }
  }
  for (const [entered, actions] of Object.entries(value.status.on_enter)) {
    (actions ?? []).forEach((action, i) => {
      if (!('notify' in action)) return;
      for (const [lang, templates] of Object.entries(value.templates)) {
        if (!templates.notifications[action.template]) {
          issue(['status', 'on_enter', entered, i, 'template'], `no notification template "${action.template}" for language "${lang}"`);
        }
      }
    });
  }
}
