/** Threading keys: Message-ID normalisation and the ticket token in a subject. */

/** Strips angle brackets and white space; returns null for an empty id. */
export function normalizeMessageId(value: string | null | undefined): string | null {
  if (!value) return null;
  const trimmed = value.trim().replace(/^<+/, '').replace(/>+$/, '').trim();
  return trimmed.length > 0 && trimmed.length <= 998 ? trimmed : null;
}

/** Splits a References / In-Reply-To header into ids, keeping order and dropping repeats. */
export function parseMessageIdList(value: string | string[] | null | undefined): string[] {
  if (!value) return [];
  const text = Array.isArray(value) ? value.join(' ') : value;
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(/<([^<>\s]{1,998})>/g)) {
    const id = match[1]!;
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  }
  // Some clients write bare ids without brackets.
  if (ids.length === 0) {
    for (const part of text.split(/[\s,]+/)) {
      const id = normalizeMessageId(part);
      if (id && id.includes('@') && !seen.has(id)) {
        seen.add(id);
        ids.push(id);
      }
    }
  }
  return ids;
}

/** Formats the token mailroom puts in subjects, e.g. `[#1042]`. */
export function formatSubjectToken(ticketNumber: number): string {
  return `[#${ticketNumber}]`;
}

/** Finds the ticket number of the first `[#1042]` token in a subject. */
export function findSubjectTicketNumber(subject: string | null | undefined): number | null {
  if (!subject) return null;
  const match = /\[#(\d{1,12})\]/.exec(subject.slice(0, 2000));
  return match ? Number(match[1]) : null;
}
