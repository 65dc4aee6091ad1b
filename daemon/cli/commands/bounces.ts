import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { listBounces, listFailures, listSuppressions, removeSuppression } from '../../../db/bounces.js';
import { TICKET_STATUSES, type TicketStatus } from '../../../db/schema.js';
import { AppError } from '../../errors.js';
import { failuresCsv, failuresJson, parseDateFilter } from '../../reports/failures.js';
import { bounceRecord, suppressionRecord } from '../../reports/bounce-records.js';
import { formatTable, formatTime, printJson, truncate, type CliContext } from '../context.js';
import { createProgress } from '../progress.js';
import { positive } from './tickets.js';

/** Agent replies, bounces, suppressions and the failures report. */
export function registerDeliveryCommands(program: Command, ctx: CliContext): void {
  const tickets = program.commands.find((c) => c.name() === 'tickets')!;
  tickets
    .command('reply')
    .description("send an agent's reply to the ticket's requester; it threads in the customer's mail client")
    .argument('<number>', 'ticket number')
    .option('--body-file <file>', 'the reply text (UTF-8); - reads standard input')
    .option('--body <text>', 'the reply text itself (instead of --body-file)')
    .option('--cc <addresses>', 'comma-separated addresses to copy')
    .option('--status <status>', `status afterwards (default: the rules' status.on_agent_reply)`)
    .option('--json', 'machine-readable output (see README)')
    .action(async (numberText: string, options: { bodyFile?: string; body?: string; cc?: string; status?: string; json?: boolean }) => {
      if ((options.body === undefined) === (options.bodyFile === undefined)) throw new AppError('USAGE', 'give --body-file FILE or --body TEXT');
      if (options.status && !(TICKET_STATUSES as readonly string[]).includes(options.status)) {
        throw new AppError('USAGE', `unknown status "${options.status}"; one of ${TICKET_STATUSES.join(', ')}`);
      }
      let body = options.body ?? '';
      if (options.bodyFile !== undefined) {
        try {
          body = options.bodyFile === '-' ? await readStdin() : await readFile(options.bodyFile, 'utf8');
        } catch (err) {
          throw new AppError('USAGE', `cannot read ${options.bodyFile}: ${(err as Error).message}`);
        }
      }
      if (!body.trim()) throw new AppError('USAGE', 'the reply body is empty');
      const cc = (options.cc ?? '').split(',').map((a) => a.trim()).filter(Boolean);
      const bad = cc.find((a) => !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(a));
      if (bad) throw new AppError('USAGE', `"${bad}" is not an email address`);
      const ruleSet = await ctx.rules();
      // Imported on use: every `tickets` command loads this module (for `tickets reply`), and the
      // others send no mail.
      const { createAgentReply } = await import('../../tickets/agent-reply.js');
      const result = await ctx.withDb((db) =>
        db.transaction((tx) => createAgentReply(tx, { ruleSet, secret: ctx.secret(), now: new Date() }, positive(numberText), { body, cc, status: options.status as TicketStatus | undefined })),
      );
      if (ctx.enqueueDeliveries) await ctx.enqueueDeliveries(result.deliveryIds);
      if (options.json) {
        printJson(ctx, { ticket: result.ticketNumber, deliveryId: result.deliveryId, messageId: result.messageId, status: result.status, queued: ctx.enqueueDeliveries !== null });
        return;
      }
      ctx.io.out(`reply to ticket ${result.ticketNumber} queued as delivery ${result.deliveryId}; status ${result.status}\n`);
    });

  program
    .command('bounces')
    .description('bounces, delays and complaints received, newest first')
    .option('--unmatched', 'only those that matched no delivery (forged, unknown or unreadable)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { unmatched?: boolean; limit: string; json?: boolean }) => {
      const rows = await ctx.withDb((db) => listBounces(db, { unmatched: Boolean(options.unmatched), limit: positive(options.limit) }));
      const records = rows.map(bounceRecord);
      if (options.json) return printJson(ctx, { bounces: records });
      if (records.length === 0) return ctx.io.out('no bounces\n');
      ctx.io.out(
        formatTable(
          ['ID', 'AT', 'KIND', 'MATCH', 'DELIVERY', 'RECIPIENTS'],
          records.map((r) => [
            String(r.id),
            formatTime(new Date(r.at), ctx.io),
            r.kind,
            r.matchedBy ?? `unmatched (${r.unmatchedReason})`,
            r.deliveryId === null ? '-' : String(r.deliveryId),
            truncate(r.recipients.map((x) => `${String(x.recipient)} ${String(x.status ?? '')}`).join(', '), 60),
          ]),
        ),
      );
    });

  const suppressions = program.command('suppressions').description('addresses mailroom sends no automatic mail to');
  suppressions
    .command('list')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { json?: boolean }) => {
      const rows = await ctx.withDb((db) => listSuppressions(db));
      const records = rows.map(suppressionRecord);
      if (options.json) return printJson(ctx, { suppressions: records });
      if (records.length === 0) return ctx.io.out('no suppressed addresses\n');
      ctx.io.out(formatTable(['ADDRESS', 'SINCE', 'REASON'], records.map((r) => [r.address, r.suppressedAt ? formatTime(new Date(r.suppressedAt), ctx.io) : '', r.reason ?? ''])));
    });
  suppressions
    .command('remove')
    .argument('<address>', 'the address to send automatic mail to again')
    .action(async (address: string) => {
      const removed = await ctx.withDb((db) => removeSuppression(db, address));
      if (!removed) throw new AppError('NOT_FOUND', `${address} is not suppressed`);
      ctx.io.out(`${address.toLowerCase()} removed from the suppression list\n`);
    });

  program
    .command('failures')
    .description('recipients mailroom could not deliver to (refused, bounced, or expired in the queue), with the SMTP code and reason')
    .option('--since <date>', 'from this date or date-time (ISO 8601, UTC when no offset)')
    .option('--until <date>', 'before this date or date-time')
    .option('--ticket <number>', 'only this ticket')
    .option('--reason <reason>', 'only this reason, e.g. userunknown')
    .option('--limit <n>', 'at most this many', '10000')
    .option('--format <format>', 'csv or json', 'csv')
    .option('--bom', 'start the CSV with a byte-order mark, for spreadsheets')
    .action(async (options: { since?: string; until?: string; ticket?: string; reason?: string; limit: string; format: string; bom?: boolean }) => {
      if (options.format !== 'csv' && options.format !== 'json') throw new AppError('USAGE', '--format takes csv or json');
      const since = parseDateFilter(options.since);
      const until = parseDateFilter(options.until);
      if (since === 'invalid' || until === 'invalid') throw new AppError('USAGE', '--since and --until take a date such as 2026-11-21 or 2026-11-21T10:00:00Z');
      const rows = await ctx.withDb((db) =>
        listFailures(db, { since, until, ticketNumber: options.ticket ? positive(options.ticket) : undefined, reason: options.reason, limit: positive(options.limit) }),
      );
      const progress = createProgress(ctx.io, 'exporting', rows.length);
      // Written in slices so a large export shows progress and never builds one huge string.
      if (options.format === 'json') printJson(ctx, failuresJson(rows));
      else {
        for (let i = 0; i < rows.length || i === 0; i += 1000) {
          const csv = failuresCsv(rows.slice(i, i + 1000), { bom: i === 0 && options.bom === true });
          ctx.io.out(i === 0 ? csv : csv.slice(csv.indexOf('\r\n') + 2));
          progress.tick(Math.min(rows.length, i + 1000));
        }
      }
      progress.finish();
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
