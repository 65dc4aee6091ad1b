import type { listFailures } from '../../db/bounces.js';

// The page position (mark) is the API's business, not the report's.
export type FailureRow = Omit<Awaited<ReturnType<typeof listFailures>>[number], 'mark'>;

/** The report's columns, in order: the CSV header and the JSON keys. */
export const FAILURE_COLUMNS = [
  'at',
  'ticket',
  'deliveryId',
  'messageId',
  'recipient',
  'kind',
  'replyCode',
  'enhancedStatus',
  'reason',
  'hardOrSoft',
  'diagnostic',
  'remoteMta',
  'subject',
  'requester',
  'state',
] as const;

export function failureRecord(row: FailureRow): Record<(typeof FAILURE_COLUMNS)[number], string | number | null> {
  return {
    at: row.at.toISOString(),
    ticket: row.ticketNumber,
    deliveryId: row.deliveryId,
    messageId: row.messageId,
    recipient: row.recipient,
    kind: row.kind,
    replyCode: row.replyCode,
    enhancedStatus: row.enhancedStatus,
    reason: row.reason,
    // An expired recipient was never refused by anyone: the relay did not take the mail.
    hardOrSoft: row.state === 'expired' ? 'relay' : row.hard === null ? null : row.hard ? 'hard' : 'soft',
    diagnostic: row.diagnostic,
    remoteMta: row.remoteMta,
    subject: row.ticketSubject,
    requester: row.requester,
    state: row.state,
  };
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A cell starting
 * with = + - @ is prefixed with ' so a spreadsheet never runs a remote server's words as a formula.
 */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * UTF-8 with CRLF line ends; with `bom`, a byte-order mark first, so spreadsheets open it with
 * accents intact (and off by default: a pipe into another program wants none).
 */
export function failuresCsv(rows: FailureRow[], options: { bom?: boolean } = {}): string {
  const lines = [FAILURE_COLUMNS.join(','), ...rows.map((row) => FAILURE_COLUMNS.map((c) => csvField(failureRecord(row)[c])).join(','))];
  return `${options.bom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}

export function failuresJson(rows: FailureRow[]): { failures: Array<ReturnType<typeof failureRecord>> } {
  return { failures: rows.map(failureRecord) };
}

/** Parses a --since/--until value: an ISO date or date-time. */
export function parseDateFilter(text: string | undefined | null): Date | undefined | 'invalid' {
  if (text === undefined || text === null || text === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return 'invalid';
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(date.getTime()) ? 'invalid' : date;
}
