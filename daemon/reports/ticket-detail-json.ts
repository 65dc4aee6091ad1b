import { sanitizeMailHtml } from './sanitize-mail-html.js';
import type { TicketDetail } from './ticket-detail.js';

// Not in ticket-detail.ts: loading the sanitizer would cost `tickets list` start-up time it does not need.

/**
 * The detail as `tickets show --json` prints it and `GET /api/v1/tickets/:number` answers: each
 * article's HTML part sanitized (`html`, null when the mail had none), its `cid:` images at
 * `attachmentUrl(id)`, remote images left out.
 */
export function ticketDetailJson(detail: TicketDetail, attachmentUrl: (id: string) => string) {
  return {
    ...detail,
    articles: detail.articles.map(({ htmlBody, attachments, ...article }) => ({
      ...article,
      html: htmlBody === null ? null : sanitizeMailHtml(htmlBody, { attachments, attachmentUrl }),
      attachments,
    })),
  };
}
