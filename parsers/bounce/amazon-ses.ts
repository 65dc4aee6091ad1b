/**
 * Amazon SES notifications delivered by mail (SNS email subscription): a JSON document, not a
 * DSN. https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 *
 * SNS wraps long lines of the JSON with `!` + line break + space; those are removed before
 * parsing. Anything that is not the expected shape gives null.
 */

export interface SesRecipient {
  recipient: string;
  action: string | null;
  status: string;
  diagnostic: string;
  remoteMta: string | null;
}

export interface SesNotification {
  type: 'bounce' | 'complaint' | 'delivery';
  /** Permanent / Transient for bounces. */
  bounceType: string;
  recipients: SesRecipient[];
  messageId: string | null;
  subject: string | null;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // Malformed JSON is hostile or truncated input, not a failure: the caller treats it as "not SES".
    void err;
    return null;
  }
}

/** Reads an SES notification from a message body, or null. */
export function parseSesNotification(body: string): SesNotification | null {
  const start = body.indexOf('{');
  if (start === -1 || !body.includes('notificationType')) return null;
  const end = body.lastIndexOf('}');
  if (end <= start) return null;
  const cleaned = body.slice(start, end + 1).replace(/!\r?\n /g, '');
  let doc = asRecord(parseJson(cleaned));
  if (doc && typeof doc['Message'] === 'string') doc = asRecord(parseJson(doc['Message']));
  if (!doc) return null;
  const kind = asString(doc['notificationType'] ?? doc['eventType']).toLowerCase();
  const mail = asRecord(doc['mail']);
  const common = asRecord(mail?.['commonHeaders']);
  const messageId = asString(common?.['messageId']).replace(/^<|>$/g, '') || null;
  const subject = asString(common?.['subject']) || null;
  const recipients: SesRecipient[] = [];
  if (kind === 'bounce') {
    const bounce = asRecord(doc['bounce']);
    const mta = asString(bounce?.['reportingMTA']).replace(/^dns;\s*/i, '') || null;
    for (const item of Array.isArray(bounce?.['bouncedRecipients']) ? (bounce!['bouncedRecipients'] as unknown[]) : []) {
      const r = asRecord(item);
      if (!r) continue;
      recipients.push({
        recipient: asString(r['emailAddress']).toLowerCase(),
        action: asString(r['action']) || null,
        status: asString(r['status']),
        diagnostic: asString(r['diagnosticCode']).replace(/^smtp;\s*/i, ''),
        remoteMta: mta,
      });
    }
    return { type: 'bounce', bounceType: asString(bounce?.['bounceType']), recipients, messageId, subject };
  }
  if (kind === 'complaint') {
    const complaint = asRecord(doc['complaint']);
    for (const item of Array.isArray(complaint?.['complainedRecipients']) ? (complaint!['complainedRecipients'] as unknown[]) : []) {
      const r = asRecord(item);
      if (r) recipients.push({ recipient: asString(r['emailAddress']).toLowerCase(), action: null, status: '', diagnostic: asString(complaint?.['complaintFeedbackType']), remoteMta: null });
    }
    return { type: 'complaint', bounceType: '', recipients, messageId, subject };
  }
  if (kind === 'delivery') {
    const delivery = asRecord(doc['delivery']);
    const mta = asString(delivery?.['reportingMTA']) || null;
    for (const item of Array.isArray(delivery?.['recipients']) ? (delivery!['recipients'] as unknown[]) : []) {
      recipients.push({ recipient: asString(item).toLowerCase(), action: 'delivered', status: '2.0.0', diagnostic: asString(delivery?.['smtpResponse']), remoteMta: mta });
    }
    return { type: 'delivery', bounceType: '', recipients, messageId, subject };
  }
  return null;
}
