import type { TicketStatusName } from './schema.js';

/** What rule evaluation looks at in one customer mail. */
export interface RuleMessage {
  subject: string;
  /** The customer's new words (quoted history and signature removed). */
  visibleText: string;
  /** Lower case. */
  fromAddress: string;
  /** The support mailbox it was sent to, lower case. */
  mailbox: string;
  /** Plus-address tags that are not reply tokens (`soporte+facturas@` → `facturas`), lower case. */
  tags: string[];
  attachments: Array<{ filename: string | null; contentType: string; size: number }>;
  /**
   * Ids of the `sensitive` entries whose pattern matched anywhere in the subject or the visible
   * text, when the caller has redacted them whole with the same rule set (`subject` and
   * `visibleText` are then the redacted texts); without it only the scanned prefix is tested.
   */
  sensitiveFound?: ReadonlySet<string>;
}

/** A field given by the customer; `value` is null when the detector only tells presence. */
export interface FoundField {
  value: string | null;
}

/** What the ticket already knows before this mail. */
export interface TicketFacts {
  isNew: boolean;
  /** The ticket's category, fixed when it was opened; null for a new ticket. */
  category: string | null;
  /** Fields found in earlier mails of the ticket. */
  fields: Record<string, FoundField>;
}

export interface MissingItem {
  /** A field id, or `message_length` when the text is too short or too long. */
  id: string;
  label: string;
  hint: string;
}

export interface SensitiveFinding {
  id: string;
  label: string;
  /** The pattern matched the subject or visible text (which is then redacted). */
  inText: boolean;
  /** Indexes into RuleMessage.attachments of attachments that matched. */
  attachmentIndexes: number[];
}

/** The outcome of checking one customer mail against the rules, in the mailbox's language. */
export interface Verdict {
  language: string;
  category: { id: string; label: string } | null;
  slaHours: number | null;
  /** Due time for a new ticket's first response; null when the category sets no SLA. */
  slaDueAt: Date | null;
  /** Expected response time in words, for the acknowledgement. */
  responseTime: string | null;
  /** Fields found in this mail. */
  found: Record<string, FoundField>;
  /** Fields of the ticket after this mail (earlier ones plus found). */
  fields: Record<string, FoundField>;
  /** Exactly what is still missing, in order. */
  missing: MissingItem[];
  lengthProblem: 'too_short' | 'too_long' | null;
  sensitive: SensitiveFinding[];
  /** visibleText with every sensitive pattern match replaced by `[redacted]`. */
  redactedVisibleText: string;
}

export type ReplyKind = 'acknowledgement' | 'missing_details' | 'acknowledgement_missing_details' | 'sensitive_warning';

/** The ticket as the plan sees it before this mail. */
export interface TicketState {
  isNew: boolean;
  status: TicketStatusName;
  tags: string[];
  /** Missing-details requests already sent on this ticket. */
  detailRequests: number;
}

/** What to change on the ticket and which mails to send, before loop and rate-limit checks. */
export interface Plan {
  /** New status, or null to leave it. */
  status: TicketStatusName | null;
  addTags: string[];
  removeTags: string[];
  /** The one reply to the customer's mail (acknowledgement and request combined on a new ticket). */
  reply: Exclude<ReplyKind, 'sensitive_warning'> | null;
  sensitiveWarning: boolean;
  /** Ticket events to record, e.g. `details.missing`, `details.complete`, `details.request_limit`, `sensitive.detected`. */
  events: Array<{ type: string; data: Record<string, unknown> }>;
}
