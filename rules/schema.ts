import { z } from 'zod';

/**
 * The admins' YAML file. Issue-by-issue it grows sections (categories, fields, templates…);
 * every section is a strict object so a typo in a key is an error, not a silent default.
 */
const language = z.string().regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'a language tag such as "es" or "en-GB"');

const emailAddress = z
  .string()
  .regex(/^[^\s@+<>()",;:]+@[a-z0-9.-]+\.[a-z]{2,}$/i, 'a plain address such as "soporte@example.com", without "+"');

export const mailboxSchema = z.strictObject({
  /** The support address customers write to. */
  address: emailAddress.transform((value) => value.toLowerCase()),
  /** Display name used on mail sent from this mailbox. */
  name: z.string().min(1).max(200),
  /** Language of templates and replies for this mailbox. */
  language: language.default('en'),
  /** Category for new tickets of this mailbox when no rule picks one. */
  default_category: z.string().min(1).optional(),
});

export const threadingSchema = z.strictObject({
  /**
   * What to do with a reply whose headers or subject token name a ticket its sender is not a
   * participant of: open a new ticket linked to the original (default) or append it anyway.
   */
  stranger_reply: z.enum(['new_ticket', 'append']).default('new_ticket'),
});

export const ruleSetSchema = z
  .strictObject({
    $schema: z.string().optional(),
    mailboxes: z.array(mailboxSchema).min(1, 'at least one mailbox is needed'),
    threading: threadingSchema.default({ stranger_reply: 'new_ticket' }),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.mailboxes.forEach((mailbox, index) => {
      if (seen.has(mailbox.address)) {
        ctx.addIssue({ code: 'custom', path: ['mailboxes', index, 'address'], message: `duplicate mailbox ${mailbox.address}` });
      }
      seen.add(mailbox.address);
    });
  });

export type RuleSet = z.output<typeof ruleSetSchema>;
export type Mailbox = z.output<typeof mailboxSchema>;
