import type http from 'node:http';
import type { Db } from '../../db/client.js';
import { countTicketsByStatus } from '../../db/ticket-counts.js';
import { listTickets } from '../../db/ticket-pages.js';
import { TICKET_STATUSES, type TicketStatus } from '../../db/schema.js';
import { readTicketDetail } from '../reports/ticket-detail.js';
import { CONSOLE_CSS, CONSOLE_JS } from './assets.js';
import { loginPage } from './login.js';
import { clearedSessionCookie, csrfToken, readCookie, SESSION_COOKIE, sessionCookie, validCsrf, type Principal } from './session.js';
import { ticketListPage } from './ticket-list.js';
import { ticketPage } from './ticket-page.js';
import { failuresPage } from './failures-page.js';
import { rulesPage, type RulesView } from './rules-page.js';
import { MAX_PLAYGROUND_FORM_BYTES, playgroundFromForm } from './rules-playground.js';
import { operationsPage } from './operations-page.js';
import { operationsAction, operationsNotice, readOperationsView, type QueueDepths } from './operations.js';
import { failuresCsv } from '../reports/failures.js';
import { failureQueryOf, readFailures, resendFromForm, resentNotice } from './failures.js';
import { webhooksPage } from './webhooks-page.js';
import { readWebhooksView, webhooksAction, webhooksNotice } from './webhooks.js';
import type { ApiServices } from '../http/api/services.js';
import { AppError } from '../errors.js';
import { sendAttachment } from '../http/api/attachments.js';
import { sendArticleHtml } from '../http/api/article-html.js';
import { readArticleHtml } from '../reports/article-html.js';

export interface ConsoleDeps {
  db: () => Db;
  /** The changes agents make, the same the API makes (one transaction each, mail enqueued after). */
  services: () => ApiServices;
  /** The rules in force and how the last edit of the file went. */
  rules: () => RulesView;
  /** The principal a token belongs to (the API's tokens and roles), or null. */
  authenticate: (token: string) => Principal | null;
  secret: () => string;
  /** Jobs waiting per queue, as the metrics scrape reads them. */
  queueDepths: QueueDepths;
}

/** Nothing but the console's own files may run or load; no other site may frame it. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on the console's own forms.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The ticket page frames the articles' HTML parts, which are served by the console itself. */
const TICKET_PAGE_HEADERS = { 'content-security-policy': `${PAGE_CSP}; frame-src 'self'` };

/**
 * How much of a form each POST reads, and what to say when it is more. Text an agent writes
 * counts up to 9 bytes a character once form-encoded (a 20,000-character note: 180 KB).
 */
function formLimit(path: string): { bytes: number; tooBig: string | null } {
  if (path === '/rules/playground') return { bytes: MAX_PLAYGROUND_FORM_BYTES, tooBig: 'the message is larger than 2 MB' };
  if (/^\/tickets\/\d{1,12}\/notes$/.test(path)) return { bytes: 200 * 1024, tooBig: 'the note is longer than 20,000 characters' };
  if (/^\/tickets\/\d{1,12}\/reply$/.test(path)) return { bytes: 1024 * 1024, tooBig: 'the reply is larger than 1 MB' };
  return { bytes: 16 * 1024, tooBig: null };
}

/**
 * The web console, server-rendered: a login form that keeps the token in an HttpOnly,
 * SameSite=Strict cookie, the ticket queue and the ticket page. Returns false for paths it does
 * not serve, so the HTTP server answers them.
 */
export function createConsole(deps: ConsoleDeps): (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean> {
  // Both answer the request and return true ("handled"), so a route ends with `return send(…)`.
  const send = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): true => {
    res.writeHead(status, { ...PAGE_HEADERS, ...headers });
    res.end(body);
    return true;
  };
  const redirect = (res: http.ServerResponse, location: string, headers: Record<string, string> = {}): true => {
    res.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
    res.end();
    return true;
  };

  return async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && (path === '/static/console.css' || path === '/static/console.js')) {
      const css = path.endsWith('.css');
      res.writeHead(200, { 'content-type': css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
      res.end(css ? CONSOLE_CSS : CONSOLE_JS);
      return true;
    }
    if (path === '/login') {
      if (req.method === 'GET') return send(res, 200, loginPage(null));
      if (req.method !== 'POST') return false;
      const form = await readForm(req, formLimit(path).bytes);
      const token = form?.get('token')?.trim() ?? '';
      if (!token || !deps.authenticate(token)) return send(res, 401, loginPage('That token is not valid.'));
      return redirect(res, '/tickets', { 'set-cookie': sessionCookie(token, isSecure(req)) });
    }
    if (
      !['/', '/logout', '/tickets', '/failures', '/failures.csv', '/failures/resend', '/rules', '/rules/playground', '/operations', '/webhooks'].includes(path) &&
      !['/attachments/', '/tickets/', '/operations/', '/webhooks/'].some((prefix) => path.startsWith(prefix))
    )
      return false;

    const token = readCookie(req, SESSION_COOKIE);
    const principal = token ? deps.authenticate(token) : null;
    if (!token || !principal) return redirect(res, '/login');
    const csrf = csrfToken(deps.secret(), token);
    if (req.method === 'POST') {
      const limit = formLimit(path);
      const form = await readForm(req, limit.bytes);
      // Too big is its own answer: a 403 would send the agent looking for a forgery.
      if (form === null && limit.tooBig && sameOrigin(req)) return send(res, 413, limit.tooBig);
      if (!sameOrigin(req) || !validCsrf(deps.secret(), token, form?.get('csrf') ?? undefined)) return send(res, 403, 'forbidden: the form did not come from this console');
      if (path === '/logout') return redirect(res, '/login', { 'set-cookie': clearedSessionCookie() });
      if (path === '/rules/playground') {
        if (principal.role !== 'admin') return send(res, 403, 'forbidden: the playground needs an admin token');
        const answer = await playgroundFromForm(form!, { services: deps.services(), rules: deps.rules() }, { principal, csrf });
        return send(res, answer.status, answer.body);
      }
      const action = await operationsAction(path, form!, principal, { db: deps.db(), services: deps.services() });
      if (action) return 'forbidden' in action ? send(res, 403, action.forbidden) : redirect(res, action.redirect);
      if (path.startsWith('/webhooks/')) {
        if (principal.role !== 'admin') return send(res, 403, 'forbidden: webhooks need an admin token');
        const retried = await webhooksAction(path, deps.services());
        return retried ? redirect(res, retried.redirect) : false;
      }
      if (path === '/failures/resend') {
        if (principal.role === 'read') return send(res, 403, 'forbidden: a read token cannot resend');
        const resent = await resendFromForm(form!, principal, deps.services());
        if ('redirect' in resent) return redirect(res, resent.redirect);
        const { rows } = await readFailures(deps.services(), failureQueryOf(new URLSearchParams()));
        return send(res, resent.status, failuresPage(rows, failureQueryOf(new URLSearchParams()), resent.problem, { principal, csrf }));
      }
      const noteOn = /^\/tickets\/(\d{1,12})\/notes$/.exec(path)?.[1];
      if (noteOn) {
        if (principal.role === 'read') return send(res, 403, 'forbidden: a read token cannot add notes');
        return noteFromForm(res, Number(noteOn), form!, principal, csrf);
      }
      const replyTo = /^\/tickets\/(\d{1,12})\/reply$/.exec(path)?.[1];
      if (!replyTo) return false;
      if (principal.role === 'read') return send(res, 403, 'forbidden: a read token cannot reply');
      return replyFromForm(res, Number(replyTo), form!, principal, csrf);
    }
    if (req.method !== 'GET') return false;
    if (path === '/') return redirect(res, '/tickets');
    if (path === '/tickets') {
      const status = url.searchParams.get('status') ?? '';
      const filters = {
        status: (TICKET_STATUSES as readonly string[]).includes(status) ? (status as TicketStatus) : undefined,
        tag: url.searchParams.get('tag')?.trim() || undefined,
        requester: url.searchParams.get('requester')?.trim() || undefined,
      };
      const db = deps.db();
      const [rows, counts] = await Promise.all([listTickets(db, { ...filters, limit: 100 }), countTicketsByStatus(db)]);
      return send(res, 200, ticketListPage(rows, counts, filters, { principal, csrf }));
    }
    if (path === '/rules') return send(res, 200, rulesPage(deps.rules(), { principal, csrf }));
    if (path === '/webhooks') {
      if (principal.role !== 'admin') return send(res, 403, 'forbidden: webhooks need an admin token');
      return send(res, 200, webhooksPage(await readWebhooksView(deps.services()), { principal, csrf, ...webhooksNotice(url.searchParams) }));
    }
    if (path === '/operations') return send(res, 200, operationsPage(await readOperationsView(deps.db(), deps.queueDepths), { principal, csrf, ...operationsNotice(url.searchParams) }));
    if (path === '/failures' || path === '/failures.csv') {
      const query = failureQueryOf(url.searchParams);
      const { rows, problem } = await readFailures(deps.services(), query);
      if (path === '/failures.csv') {
        res.writeHead(problem ? 400 : 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="mailroom-failures.csv"', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
        res.end(problem ?? failuresCsv(rows, { bom: true }));
        return true;
      }
      return send(res, problem ? 400 : 200, failuresPage(rows, query, problem, { principal, csrf, resent: resentNotice(url.searchParams) }));
    }
    const attachment = /^\/attachments\/(\d{1,12}-\d{1,5})$/.exec(path)?.[1];
    if (attachment) {
      const problem = await sendAttachment(deps.db(), attachment, res);
      return problem ? send(res, 404, problem) : true;
    }
    const part = /^\/tickets\/(\d{1,12})\/articles\/(\d{1,12})\/html$/.exec(path);
    if (part) {
      const remoteImages = url.searchParams.get('remote') === '1';
      const body = await readArticleHtml(deps.db(), Number(part[1]), Number(part[2]), { cidImages: 'inline', remoteImages });
      if (body === null) return send(res, 404, 'no such HTML part');
      // The only console response another page may frame, and only the console's own ticket page.
      sendArticleHtml(res, body, { remoteImages, frameAncestors: "'self'" });
      return true;
    }
    const number = /^\/tickets\/(\d{1,12})$/.exec(path)?.[1];
    const detail = number ? await readTicketDetail(deps.db(), Number(number)) : null;
    if (!detail) return send(res, 404, 'no such ticket');
    const replied = url.searchParams.get('replied');
    const noted = url.searchParams.has('noted');
    return send(res, 200, ticketPage(detail, { principal, csrf, notice: replied && /^\d+$/.test(replied) ? `Reply queued as delivery ${replied}.` : noted ? 'Internal note added; it was not sent to anyone.' : null }), TICKET_PAGE_HEADERS);
  };

  async function replyFromForm(res: http.ServerResponse, number: number, form: URLSearchParams, principal: Principal, csrf: string): Promise<true> {
    const body = form.get('body')?.trim() ?? '';
    const status = form.get('status') ?? '';
    const problem = !body ? 'The reply is empty.' : status && !(TICKET_STATUSES as readonly string[]).includes(status) ? 'Unknown status.' : null;
    if (!problem) {
      try {
        const result = await deps.services().reply(number, { body, cc: [], status: (status || undefined) as TicketStatus | undefined, by: principal.name });
        return redirect(res, `/tickets/${number}?replied=${result.deliveryId}`);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    const detail = await readTicketDetail(deps.db(), number);
    if (!detail) return send(res, 404, 'no such ticket');
    return send(res, 400, ticketPage(detail, { principal, csrf, problem }), TICKET_PAGE_HEADERS);
  }

  /** The ticket page's note form: the same note as `POST /api/v1/tickets/{number}/notes`. */
  async function noteFromForm(res: http.ServerResponse, number: number, form: URLSearchParams, principal: Principal, csrf: string): Promise<true> {
    const text = form.get('text')?.trim() ?? '';
    const problem = !text ? 'The note is empty.' : text.length > 20_000 ? 'The note is longer than 20,000 characters.' : null;
    if (!problem) {
      try {
        await deps.services().addNote(number, text, principal.name);
        return redirect(res, `/tickets/${number}?noted=1`);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    const detail = await readTicketDetail(deps.db(), number);
    if (!detail) return send(res, 404, 'no such ticket');
    return send(res, 400, ticketPage(detail, { principal, csrf, problem }), TICKET_PAGE_HEADERS);
  }
}

async function readForm(req: http.IncomingMessage, maxBytes: number): Promise<URLSearchParams | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return null;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A browser says where a form came from; one from another origin is refused even with a cookie. */
function sameOrigin(req: http.IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // older browsers send none on same-origin posts; SameSite and the CSRF field still apply
  return origin === `${isSecure(req) ? 'https' : 'http'}://${req.headers.host}`;
}

function isSecure(req: http.IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https';
}
