import { z } from 'zod';

/**
 * The events a webhook can follow. Each is read from what mailroom already records (a ticket
 * event or a bounce row), so a webhook sees exactly what `tickets show` and `bounces` show.
 */
export const WEBHOOK_EVENTS = [
  'ticket.created',
  'article.added',
  'status.changed',
  'details.missing',
  'details.complete',
  'delivery.failed',
  'bounce.unmatched',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const webhookSchema = z
  .strictObject({
    /** Names the webhook in the outbox, the CLI and the logs; renaming it starts it afresh. */
    id: z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "_" and "-", starting with a letter'),
    url: z
      .string()
      .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'an http:// or https:// URL'),
    events: z.array(z.union([z.enum(WEBHOOK_EVENTS), z.literal('*')])).min(1, 'at least one event, or "*" for all'),
    /** HMAC key of the Mailroom-Signature header. */
    secret: z.string().min(24, 'at least 24 characters').optional(),
    /** The environment variable holding the secret, so the key stays out of this file. */
    secret_env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name such as MAILROOM_WEBHOOK_CRM_SECRET')
      .optional(),
  })
  .refine((hook) => (hook.secret === undefined) !== (hook.secret_env === undefined), 'give either secret or secret_env');

/** Webhook ids must be unique: each one has its own outbox rows and read position. */
export const webhooksSchema = z
  .array(webhookSchema)
  .default([])
  .superRefine((hooks, ctx) => {
    const seen = new Set<string>();
    hooks.forEach((hook, index) => {
      if (seen.has(hook.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `webhook id "${hook.id}" is used twice` });
      seen.add(hook.id);
    });
  });

export type Webhook = z.output<typeof webhookSchema>;

/** Whether `hook` follows `event`. */
export function isSubscribed(hook: Pick<Webhook, 'events'>, event: WebhookEvent): boolean {
  return hook.events.includes('*') || hook.events.includes(event);
}
