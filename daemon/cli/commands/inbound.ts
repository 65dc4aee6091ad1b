import type { Command } from 'commander';
import { INBOUND_STATES, type InboundState } from '../../../db/schema.js';
import { listInbound, resetInboundForReplay } from '../../../db/inbound.js';
import { AppError } from '../../errors.js';
import { formatTable, printJson, truncate, type CliContext } from '../context.js';
import { createProgress } from '../progress.js';
import { positive } from './tickets.js';

export function registerInboundCommands(program: Command, ctx: CliContext): void {
  const inbound = program.command('inbound').description('the spool: every message received, with its processing state');

  inbound
    .command('list')
    .description('newest spool rows first')
    .option('--state <state>', `only rows in this state (${INBOUND_STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { state?: string; limit: string; json?: boolean }) => {
      if (options.state && !(INBOUND_STATES as readonly string[]).includes(options.state)) {
        throw new AppError('USAGE', `unknown state "${options.state}"; one of ${INBOUND_STATES.join(', ')}`);
      }
      const rows = await ctx.withDb((db) => listInbound(db, { state: options.state as InboundState | undefined, limit: positive(options.limit) }));
      if (options.json) {
        printJson(ctx, {
          inbound: rows.map((row) => ({
            id: row.id,
            receivedAt: row.receivedAt.toISOString(),
            state: row.state,
            reason: row.stateReason,
            error: row.lastError,
            attempts: row.attempts,
            mailFrom: row.mailFrom,
            rcptTo: row.rcptTo,
            clientAddress: row.clientAddress,
            clientHelo: row.clientHelo,
            tls: row.tls,
            sizeBytes: row.sizeBytes,
            sha256: row.sha256,
            ticketId: row.ticketId,
            articleId: row.articleId,
            senderAuth: row.senderAuth ?? null,
          })),
        });
        return;
      }
      if (rows.length === 0) {
        ctx.io.out('no spool rows\n');
        return;
      }
      ctx.io.out(
        formatTable(
          ['ID', 'STATE', 'RECEIVED', 'FROM', 'BYTES', 'NOTE'],
          rows.map((row) => [
            String(row.id),
            row.state,
            row.receivedAt.toISOString().slice(0, 19).replace('T', ' '),
            row.mailFrom || '<>',
            String(row.sizeBytes),
            truncate(row.lastError ?? row.stateReason ?? '', 50),
          ]),
        ),
      );
    });

  inbound
    .command('replay')
    .description('process spool rows again (idempotent: nothing is added twice)')
    .argument('[ids...]', 'spool row ids')
    .option('--failed', 'every row in state failed')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idTexts: string[], options: { failed?: boolean; json?: boolean }) => {
      if (options.failed === Boolean(idTexts.length)) throw new AppError('USAGE', 'give spool ids or --failed (not both)');
      const ids = await ctx.withDb((db) => resetInboundForReplay(db, options.failed ? { failed: true } : { ids: idTexts.map(positive) }));
      if (ctx.enqueue) {
        const progress = createProgress(ctx.io, 'queueing', ids.length);
        for (let i = 0; i < ids.length; i += 500) {
          await ctx.enqueue(ids.slice(i, i + 500));
          progress.tick(Math.min(ids.length, i + 500));
        }
        progress.finish();
      }
      const queued = ctx.enqueue !== null;
      if (options.json) {
        printJson(ctx, { replayed: ids, queued });
        return;
      }
      if (ids.length === 0) {
        ctx.io.out('nothing to replay\n');
        return;
      }
      ctx.io.out(
        `${ids.length} row(s) set to received: ${ids.join(', ')}\n` +
          (queued ? 'queued for processing\n' : 'the daemon picks them up at its next sweep or start\n'),
      );
    });
}
