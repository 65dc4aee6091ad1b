import type { Command } from 'commander';
import { listOutbound, retryDeferred } from '../../../db/deliveries.js';
import { DELIVERY_STATES, type DeliveryState } from '../../../db/schema.js';
import { AppError } from '../../errors.js';
import { formatTable, formatTime, printJson, truncate, type CliContext } from '../context.js';
import { positive } from './tickets.js';

/** The outbound queue, as `mailq` and `postqueue -f` show and flush Postfix's. */
export function registerOutboundCommands(program: Command, ctx: CliContext): void {
  const outbound = program.command('outbound').description('mail mailroom sends: waiting, deferred, sent, failed or expired');

  outbound
    .command('list')
    .description('deliveries, newest first, with each recipient and what the relay last said')
    .option('--state <state>', `only deliveries in this state (${DELIVERY_STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { state?: string; limit: string; json?: boolean }) => {
      if (options.state && !(DELIVERY_STATES as readonly string[]).includes(options.state)) {
        throw new AppError('USAGE', `unknown state "${options.state}"; one of ${DELIVERY_STATES.join(', ')}`);
      }
      const rows = await ctx.withDb((db) => listOutbound(db, { state: options.state as DeliveryState | undefined, limit: positive(options.limit) }));
      const listed = rows.map((row) => ({
        id: row.id,
        ticketId: row.ticketId,
        kind: row.kind,
        state: row.state,
        attempts: row.attempts,
        createdAt: row.createdAt.toISOString(),
        nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
        sentAt: row.sentAt?.toISOString() ?? null,
        lastError: row.lastError,
        subject: row.subject,
        recipients: row.recipients.map((r) => ({ address: r.address, role: r.role, state: r.state, smtpCode: r.smtpCode, reason: r.reason, diagnostic: r.diagnostic })),
      }));
      if (options.json) {
        printJson(ctx, { deliveries: listed });
        return;
      }
      if (listed.length === 0) {
        ctx.io.out('no deliveries\n');
        return;
      }
      ctx.io.out(
        formatTable(
          ['ID', 'STATE', 'KIND', 'CREATED', 'TRIES', 'NEXT', 'RECIPIENTS', 'LAST'],
          listed.map((row) => [
            String(row.id),
            row.state,
            row.kind,
            formatTime(new Date(row.createdAt), ctx.io),
            String(row.attempts),
            row.nextAttemptAt ? formatTime(new Date(row.nextAttemptAt), ctx.io) : '',
            row.recipients.map((r) => `${r.address} ${r.state}`).join(', '),
            truncate(row.lastError ?? '', 40),
          ]),
        ),
      );
    });

  outbound
    .command('retry')
    .description('try deferred deliveries now instead of at their next attempt (postqueue -f)')
    .argument('[ids...]', 'delivery ids')
    .option('--all-deferred', 'every deferred delivery')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idTexts: string[], options: { allDeferred?: boolean; json?: boolean }) => {
      if (Boolean(options.allDeferred) === idTexts.length > 0) throw new AppError('USAGE', 'give delivery ids or --all-deferred (not both)');
      const ids = idTexts.map(positive);
      const retried = await ctx.withDb((db) => retryDeferred(db, options.allDeferred ? { allDeferred: true } : { ids }));
      const notDeferred = ids.filter((id) => !retried.includes(id));
      if (ctx.enqueueDeliveries && retried.length > 0) await ctx.enqueueDeliveries(retried);
      const queued = ctx.enqueueDeliveries !== null;
      if (options.json) printJson(ctx, { retried, notDeferred, queued });
      else {
        ctx.io.out(
          retried.length === 0
            ? 'no deferred delivery to retry\n'
            : `${retried.length} deliver${retried.length === 1 ? 'y' : 'ies'} due now: ${retried.join(', ')}; ${queued ? 'queued for sending' : 'the daemon sends them at its next sweep'}\n`,
        );
        if (notDeferred.length > 0) ctx.io.err(`not deferred (nothing to retry): ${notDeferred.join(', ')}\n`);
      }
      if (notDeferred.length > 0) throw new AppError('NOT_FOUND', `no deferred delivery ${notDeferred.join(', ')}`);
    });
}
