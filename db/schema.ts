import { sql } from 'drizzle-orm';
import type { SenderAuth } from '../rules/sender-policy.js';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** bytea that both drivers hand back as a Buffer (PGlite gives a Uint8Array). */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)),
});

const id = (name: string) => bigint(name, { mode: 'number' });
/** A 64-bit transaction id, as text (it may pass 2^53). */
const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });
/**
 * The id of the transaction that wrote the row. Ids are handed out in order but transactions commit
 * in any order, so a reader following a serial id could step past a row committed later; following
 * transaction ids below the oldest one still running misses nothing (the webhook dispatcher).
 */
const writerTransactionId = () =>
  xid8('transaction_id')
    .notNull()
    .default(sql`pg_current_xact_id()`);
const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** `suspended`: kept aside for an operator (a DMARC p=reject failure, an upstream spam verdict): no ticket, no mail. */
export const INBOUND_STATES = ['receiving', 'received', 'processing', 'processed', 'ignored', 'failed', 'suspended'] as const;
export type InboundState = (typeof INBOUND_STATES)[number];

/** The spool: every message exactly as it arrived, with its envelope. The source of truth. */
export const inboundMessages = pgTable(
  'inbound_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    mailFrom: text('mail_from').notNull(),
    rcptTo: text('rcpt_to').array().notNull(),
    clientAddress: text('client_address').notNull(),
    clientHelo: text('client_helo'),
    tls: boolean('tls').notNull().default(false),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    /** Whole message when it fits one row; null when it is stored in inbound_chunks. */
    raw: bytea('raw'),
    chunkCount: integer('chunk_count').notNull().default(0),
    /**
     * The Message-ID its conversation started with (parsers/conversation-key.ts), read at intake:
     * a row waits for earlier unfinished rows with the same key, so one conversation is filed in
     * the order it arrived however many workers run. Null: no id, or stored before it existed.
     */
    conversationKey: text('conversation_key'),
    state: text('state').$type<InboundState>().notNull().default('received'),
    stateReason: text('state_reason'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    ticketId: id('ticket_id'),
    articleId: id('article_id'),
    /** SPF, DKIM, DMARC and ARC as found when it was processed; null before, and for reports. */
    senderAuth: jsonb('sender_auth').$type<SenderAuth>(),
    /** When an operator released it from suspension: it is then processed without being suspended again. */
    releasedAt: timestamp('released_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (table) => [
    index('inbound_messages_state_idx').on(table.state, table.updatedAt),
    // Only unfinished rows are ever asked for by key: the index stays as small as the backlog.
    index('inbound_messages_unfinished_conversation_idx')
      .on(table.conversationKey, table.id)
      .where(sql`${table.state} in ('received', 'processing')`),
  ],
);

/** Parts of a large message, in order, so no message has to sit in memory whole to be stored. */
export const inboundChunks = pgTable(
  'inbound_chunks',
  {
    inboundId: id('inbound_id')
      .notNull()
      .references(() => inboundMessages.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (table) => [primaryKey({ columns: [table.inboundId, table.seq] })],
);

export const contacts = pgTable(
  'contacts',
  {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  /** Lower case. */
  address: text('address').notNull().unique(),
  /** canonicalAddress(address): the addresses that are one mailbox share it. */
  canonicalAddress: text('canonical_address').notNull().default(''),
  name: text('name').notNull().default(''),
  suppressedAt: timestamp('suppressed_at', { withTimezone: true }),
  suppressionReason: text('suppression_reason'),
  /** Soft bounces counted for this address; at the configured limit it is suppressed. */
  softBounces: integer('soft_bounces').notNull().default(0),
  createdAt: createdAt(),
  },
  (table) => [index('contacts_canonical_idx').on(table.canonicalAddress)],
);

export const ticketNumberSeq = pgSequence('ticket_number_seq', { startWith: 1000 });

export const TICKET_STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const tickets = pgTable(
  'tickets',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    number: id('number')
      .notNull()
      .unique()
      .default(sql`nextval('ticket_number_seq')`),
    subject: text('subject').notNull(),
    status: text('status').$type<TicketStatus>().notNull().default('new'),
    mailbox: text('mailbox').notNull(),
    requesterId: id('requester_id')
      .notNull()
      .references(() => contacts.id),
    category: text('category'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    fields: jsonb('fields').$type<Record<string, unknown>>().notNull().default({}),
    /** The ticket this one follows up (reply to a closed ticket) or was split from (stranger). */
    linkedTicketId: id('linked_ticket_id'),
    /** Required details the customer has not given yet, recomputed after each customer mail. */
    missingFields: text('missing_fields').array().notNull().default(sql`'{}'::text[]`),
    /** Missing-details requests sent so far (the rules cap them). */
    detailRequests: integer('detail_requests').notNull().default(0),
    slaDueAt: timestamp('sla_due_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('tickets_status_idx').on(table.status, table.updatedAt),
    // The API's pages by update or creation time: (time, id) walked in order, never sorted whole.
    index('tickets_updated_idx').on(table.updatedAt, table.id),
    index('tickets_created_idx').on(table.createdAt, table.id),
    // The API's text search (db/ticket-pages.ts): without it every search reads every subject.
    index('tickets_subject_fts_idx').using('gin', sql`to_tsvector('simple', ${table.subject})`),
  ],
);

export const ticketParticipants = pgTable(
  'ticket_participants',
  {
    ticketId: id('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    contactId: id('contact_id')
      .notNull()
      .references(() => contacts.id),
    role: text('role').$type<'requester' | 'to' | 'cc'>().notNull(),
    deliveryState: text('delivery_state'),
    addedAt: timestamp('added_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.ticketId, table.contactId] })],
);

export const articles = pgTable(
  'articles',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ticketId: id('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    /** The spool row it came from; unique so re-processing a row can never add it twice. */
    inboundId: id('inbound_id').unique(),
    direction: text('direction').$type<'inbound' | 'outbound'>().notNull(),
    autoGeneratedReason: text('auto_generated_reason'),
    /** What sender authentication found for an inbound article; null for our own mail. */
    senderAuth: jsonb('sender_auth').$type<SenderAuth>(),
    messageId: text('message_id'),
    inReplyTo: text('in_reply_to').array().notNull().default(sql`'{}'::text[]`),
    references: text('references').array().notNull().default(sql`'{}'::text[]`),
    fromAddress: text('from_address').notNull(),
    fromName: text('from_name').notNull().default(''),
    toAddresses: jsonb('to_addresses').$type<Array<{ address: string; name: string }>>().notNull().default([]),
    ccAddresses: jsonb('cc_addresses').$type<Array<{ address: string; name: string }>>().notNull().default([]),
    replyTo: jsonb('reply_to').$type<Array<{ address: string; name: string }>>().notNull().default([]),
    subject: text('subject').notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    textBody: text('text_body').notNull(),
    htmlBody: text('html_body'),
    visibleText: text('visible_text').notNull(),
    bodyHash: text('body_hash').notNull(),
    createdAt: createdAt(),
  },
  (table) => [
    index('articles_ticket_idx').on(table.ticketId, table.id),
    index('articles_message_id_idx').on(table.messageId),
    // The same message relayed twice (same Message-ID, same body) is stored once.
    uniqueIndex('articles_dedupe_idx').on(table.messageId, table.bodyHash),
    // The API's text search: 150,000 articles took 7.9 s to search without it, 20 ms with it.
    index('articles_visible_text_fts_idx').using('gin', sql`to_tsvector('simple', ${table.visibleText})`),
  ],
);

/** Attachment contents, stored once per content hash however many articles carry them. */
export const attachmentBlobs = pgTable('attachment_blobs', {
  sha256: text('sha256').primaryKey(),
  size: integer('size').notNull(),
  createdAt: createdAt(),
});

/**
 * The bytes of a blob in slices (db/articles.ts ATTACHMENT_CHUNK_BYTES): the `postgres` driver
 * sends a bytea parameter as hex text, so one 20 MB attachment in one row would cost ~100 MB of
 * memory to insert; a slice at a time costs a few hundred KB.
 */
export const attachmentChunks = pgTable(
  'attachment_chunks',
  {
    sha256: text('sha256')
      .notNull()
      .references(() => attachmentBlobs.sha256, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (table) => [primaryKey({ columns: [table.sha256, table.seq] })],
);

export const articleAttachments = pgTable(
  'article_attachments',
  {
    articleId: id('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    filename: text('filename'),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256')
      .notNull()
      .references(() => attachmentBlobs.sha256),
    contentId: text('content_id'),
    disposition: text('disposition'),
  },
  (table) => [primaryKey({ columns: [table.articleId, table.position] })],
);

export const ticketEvents = pgTable(
  'ticket_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ticketId: id('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    articleId: id('article_id'),
    createdAt: createdAt(),
    transactionId: writerTransactionId(),
  },
  (table) => [index('ticket_events_ticket_idx').on(table.ticketId, table.id), index('ticket_events_transaction_idx').on(table.transactionId, table.id)],
);

export const DELIVERY_KINDS = [
  'acknowledgement',
  'missing_details',
  'acknowledgement_missing_details',
  'sensitive_warning',
  'notification',
  'agent_reply',
] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];
/** Kinds sent automatically: RFC 3834 rules and rate limits apply to these. */
export const AUTOMATIC_KINDS: readonly DeliveryKind[] = DELIVERY_KINDS.filter((kind) => kind !== 'agent_reply');

/**
 * `queued`: to be sent now; `deferred`: waiting for its next attempt (`nextAttemptAt`); then
 * `sent`, `partial` (some recipients failed or expired), `failed` or `expired` (none delivered).
 */
export const DELIVERY_STATES = ['queued', 'deferred', 'sent', 'partial', 'failed', 'expired'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];
/** `expired`: still undelivered when the queue lifetime ran out; never held against the address. */
export type RecipientState = 'pending' | 'deferred' | 'sent' | 'failed' | 'delayed' | 'expired';

/** Every mail mailroom sends: the outbox. A send job delivers it; bounces are matched to it. */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    ticketId: id('ticket_id')
      .notNull()
      .references(() => tickets.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<DeliveryKind>().notNull(),
    mailbox: text('mailbox').notNull(),
    /** Without angle brackets; signed so a reply or bounce quoting it can be verified. */
    messageId: text('message_id').notNull().unique(),
    fromName: text('from_name').notNull(),
    replyTo: text('reply_to').notNull(),
    subject: text('subject').notNull(),
    textBody: text('text_body').notNull(),
    inReplyTo: text('in_reply_to'),
    references: text('references').array().notNull().default(sql`'{}'::text[]`),
    state: text('state').$type<DeliveryState>().notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** When a deferred delivery is tried again. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (table) => [
    index('deliveries_ticket_idx').on(table.ticketId, table.createdAt),
    index('deliveries_state_idx').on(table.state, table.updatedAt),
    index('deliveries_next_attempt_idx').on(table.nextAttemptAt).where(sql`state = 'deferred'`),
    index('deliveries_created_idx').on(table.createdAt),
  ],
);

/** One row per recipient of a delivery, with what the relay or a bounce said about it. */
export const deliveryRecipients = pgTable(
  'delivery_recipients',
  {
    deliveryId: id('delivery_id')
      .notNull()
      .references(() => deliveries.id, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    /** canonicalAddress(address) and its domain: what the rate limits count by. */
    canonicalAddress: text('canonical_address').notNull().default(''),
    canonicalDomain: text('canonical_domain').notNull().default(''),
    role: text('role').$type<'to' | 'cc'>().notNull().default('to'),
    state: text('state').$type<RecipientState>().notNull().default('pending'),
    smtpCode: integer('smtp_code'),
    enhancedStatus: text('enhanced_status'),
    diagnostic: text('diagnostic'),
    reason: text('reason'),
    hard: boolean('hard'),
    remoteMta: text('remote_mta'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.deliveryId, table.address] }),
    index('delivery_recipients_address_idx').on(table.address),
    index('delivery_recipients_canonical_idx').on(table.canonicalAddress),
    index('delivery_recipients_domain_idx').on(table.canonicalDomain),
  ],
);

export type BounceRowKind = 'bounce' | 'delay' | 'complaint' | 'unparsed';

/** Every bounce, complaint or unreadable report that reached mailroom, matched or not. */
export const bounces = pgTable(
  'bounces',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    inboundId: id('inbound_id')
      .notNull()
      .unique()
      .references(() => inboundMessages.id),
    kind: text('kind').$type<BounceRowKind>().notNull(),
    deliveryId: id('delivery_id').references(() => deliveries.id),
    ticketId: id('ticket_id').references(() => tickets.id),
    /** How it was tied to a delivery: `token` (signed envelope recipient) or `message_id`; null: unmatched. */
    matchedBy: text('matched_by').$type<'token' | 'message_id'>(),
    /** Why it is unmatched: `invalid_token`, `unknown_delivery`, `no_reference`, `unparsed`. */
    unmatchedReason: text('unmatched_reason'),
    source: text('source'),
    originalMessageId: text('original_message_id'),
    recipients: jsonb('recipients').$type<Array<Record<string, unknown>>>().notNull().default([]),
    createdAt: createdAt(),
    transactionId: writerTransactionId(),
  },
  (table) => [index('bounces_unmatched_idx').on(table.matchedBy, table.createdAt), index('bounces_transaction_idx').on(table.transactionId, table.id)],
);

export const WEBHOOK_DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof WEBHOOK_DELIVERY_STATES)[number];
/** Where a webhook event comes from: a row of ticket_events or of bounces. */
export type WebhookEventSource = 'ticket_event' | 'bounce';

/** The webhook outbox: one row per configured webhook and event, sent until a 2xx or its lifetime ends. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: text('webhook_id').notNull(),
    eventSource: text('event_source').$type<WebhookEventSource>().notNull(),
    eventId: id('event_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    state: text('state').$type<WebhookDeliveryState>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Due time; while a daemon is sending the row it is pushed past that attempt's timeout (a lease). */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    /** Tried until then, after which it is `failed`; `webhooks retry` starts a new lifetime. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('webhook_deliveries_event_idx').on(table.webhookId, table.eventSource, table.eventId),
    index('webhook_deliveries_due_idx').on(table.nextAttemptAt).where(sql`state = 'pending'`),
    index('webhook_deliveries_webhook_idx').on(table.webhookId, table.id),
  ],
);

/**
 * How far each webhook has read each event source: events of transactions up to (and within
 * `transactionId`, up to `eventId`) have been turned into outbox rows.
 */
export const webhookCursors = pgTable(
  'webhook_cursors',
  {
    webhookId: text('webhook_id').notNull(),
    eventSource: text('event_source').$type<WebhookEventSource>().notNull(),
    transactionId: xid8('transaction_id').notNull(),
    eventId: id('event_id').notNull().default(0),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.webhookId, table.eventSource] })],
);
