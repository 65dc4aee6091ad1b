import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { INBOUND_STATES, type InboundState } from '../../../db/schema.js';
import { findInboundRaw, findInboundStandings, getInbound, listInbound, resetInboundForReplay, type InboundStanding } from '../../../db/inbound.js';
import { inboundRecord, readInboundDetail } from '../../reports/spool-records.js';
import { AppError } from '../../errors.js';
import { formatTable, formatTime, printJson, truncate, type CliContext } from '../context.js';
import { createProgress } from '../progress.js';
import { describeSenderAuth, positive } from './tickets.js';

/** How long `replay --wait` waits for the rows when no --timeout is given. */
const DEFAULT_WAIT_SECONDS = 60;
const MAX_WAIT_SECONDS = 3600;
/** How often `replay --wait` reads the rows' states again. */
const WAIT_POLL_MS = 250;
/**
 * How often a waiting command writes an empty frame: a forwarded command's HTTP client gives up
 * on a response that stays silent for five minutes.
 */
const WAIT_HEARTBEAT_MS = 30_000;

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
          inbound: rows.map(inboundRecord),
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
            formatTime(row.receivedAt, ctx.io),
            row.mailFrom || '<>',
            String(row.sizeBytes),
            truncate(row.lastError ?? row.stateReason ?? '', 50),
          ]),
        ),
      );
    });

  inbound
    .command('show')
    .description("one spool row: envelope, state and outcome, and the message's From, To, Subject, Date and Message-ID")
    .argument('<id>', 'spool row id')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = positive(idText);
      const found = await ctx.withDb((db) => readInboundDetail(db, id));
      if (!found) throw new AppError('NOT_FOUND', `no spool row ${id}`);
      const { row, message, detail: shown } = found;
      if (options.json) {
        printJson(ctx, shown);
        return;
      }
      const outcome = [shown.reason, shown.error].filter(Boolean).join(': ');
      const about = [
        `spool row ${shown.id}: ${shown.state}${outcome ? ` (${outcome})` : ''}, ${shown.attempts} attempt(s)`,
        `received:   ${formatTime(row.receivedAt, ctx.io)} from ${shown.clientAddress}${shown.clientHelo ? ` (${shown.clientHelo})` : ''}${shown.tls ? ', TLS' : ''}`,
        `envelope:   ${shown.mailFrom || '<>'} → ${shown.rcptTo.join(', ')}`,
        `size:       ${shown.sizeBytes} bytes${shown.chunkCount > 0 ? ` in ${shown.chunkCount} chunks` : ''}, sha256 ${shown.sha256 || '(not yet)'}`,
        shown.ticketId ? `ticket:     #${shown.ticketNumber ?? '?'}${shown.articleId ? `, article ${shown.articleId}` : ''}` : '',
        shown.senderAuth ? describeSenderAuth(shown.senderAuth) : '',
        row.releasedAt ? `released:   ${formatTime(row.releasedAt, ctx.io)}` : '',
      ];
      const headers = message
        ? [
            `from:       ${shown.fromName ? `${shown.fromName} <${shown.from ?? ''}>` : (shown.from ?? '')}`,
            `to:         ${shown.to.join(', ')}`,
            `subject:    ${shown.subject ?? ''}`,
            `date:       ${message?.date ? formatTime(message.date, ctx.io) : ''}`,
            `message-id: ${shown.messageId ? `<${shown.messageId}>` : ''}`,
          ]
        : [!found.stored ? 'message:    still arriving' : `unreadable: ${shown.parseError ?? ''}`];
      ctx.io.out(`${about.filter(Boolean).join('\n')}\n\n${headers.join('\n')}\n`);
    });

  inbound
    .command('raw')
    .description('write the message exactly as stored to standard output (mailroom inbound raw 12 > 12.eml)')
    .argument('<id>', 'spool row id')
    .action(async (idText: string) => {
      const id = positive(idText);
      if (!ctx.io.outBytes) throw new Error('this output carries text only, not the bytes of a message');
      const raw = await ctx.withDb(async (db) => {
        const row = await getInbound(db, id);
        if (!row) throw new AppError('NOT_FOUND', `no spool row ${id}`);
        if (row.state === 'receiving') throw new AppError('NOT_FOUND', `spool row ${id} is still arriving: its bytes are not all stored yet`);
        return (await findInboundRaw(db, id))!;
      });
      ctx.io.outBytes(raw);
    });

  inbound
    .command('replay')
    .description('process spool rows again (idempotent: nothing is added twice)')
    .argument('[ids...]', 'spool row ids')
    .option('--failed', 'every row in state failed')
    .option('--wait', 'wait until each row is processed and print how it ended (exit 1 if one failed)')
    .option('--timeout <seconds>', `with --wait: how long to wait (default ${DEFAULT_WAIT_SECONDS})`)
    .option('--json', 'machine-readable output (see README)')
    .action(async (idTexts: string[], options: { failed?: boolean; wait?: boolean; timeout?: string; json?: boolean }) => {
      if (Boolean(options.failed) === idTexts.length > 0) throw new AppError('USAGE', 'give spool ids or --failed (not both)');
      if (options.timeout !== undefined && !options.wait) throw new AppError('USAGE', '--timeout goes with --wait');
      const waitSeconds = positive(options.timeout ?? String(DEFAULT_WAIT_SECONDS));
      if (waitSeconds > MAX_WAIT_SECONDS) throw new AppError('USAGE', `--timeout is at most ${MAX_WAIT_SECONDS} seconds`);
      const named = [...new Set(idTexts.map(positive))].sort((x, y) => x - y);
      const { ids, notReplayed } = await ctx.withDb(async (db) => {
        const reset = await resetInboundForReplay(db, options.failed ? { failed: true } : { ids: named });
        const left = named.filter((id) => !reset.includes(id));
        const standing = left.length > 0 ? await findInboundStandings(db, left) : [];
        return { ids: reset, notReplayed: left.map((id) => ({ id, state: standing.find((row) => row.id === id)?.state ?? null })) };
      });
      if (ctx.enqueue) {
        const progress = createProgress(ctx.io, 'queueing', ids.length);
        for (let i = 0; i < ids.length; i += 500) {
          await ctx.enqueue(ids.slice(i, i + 500));
          progress.tick(Math.min(ids.length, i + 500));
        }
        progress.finish();
      }
      const queued = ctx.enqueue !== null;
      // Run locally on the embedded database, the command itself holds it: no daemon is up to
      // process the rows until this command has ended.
      const nobodyProcesses = ctx.startDaemon !== null && !ctx.config?.databaseUrl;
      const outcomes = options.wait && ids.length > 0 ? await waitForOutcomes(ctx, ids, nobodyProcesses ? 0 : waitSeconds * 1000) : null;

      const unfinished = (outcomes ?? []).filter((row) => !isFinished(row.state));
      if (options.json) {
        printJson(ctx, {
          replayed: ids,
          queued,
          notReplayed,
          ...(outcomes
            ? { outcomes: outcomes.map((row) => ({ id: row.id, state: row.state, reason: row.reason, error: row.error, ticketId: row.ticketId, ticketNumber: row.ticketNumber, finished: isFinished(row.state) })) }
            : {}),
        });
      } else if (ids.length > 0 || notReplayed.length === 0) {
        ctx.io.out(
          ids.length === 0
            ? 'nothing to replay\n'
            : `${ids.length} row(s) set to received: ${ids.join(', ')}\n` + (queued ? 'queued for processing\n' : 'the daemon picks them up at its next sweep or start\n'),
        );
        if (outcomes) {
          ctx.io.out(
            formatTable(
              ['ID', 'STATE', 'TICKET', 'NOTE'],
              outcomes.map((row) => [
                String(row.id),
                row.state,
                row.ticketNumber === null ? '' : `#${row.ticketNumber}`,
                isFinished(row.state) ? truncate(row.error ?? row.reason ?? '', 70) : `not finished after ${nobodyProcesses ? 0 : waitSeconds} s`,
              ]),
            ),
          );
        }
      }

      const problems = [
        ...notReplayed.map(({ id, state }) => whyNotReplayed(id, state)),
        ...failedAgain(outcomes ?? []),
        ...(unfinished.length === 0
          ? []
          : [
              nobodyProcesses
                ? `spool row(s) ${unfinished.map((row) => row.id).join(', ')} not processed: no daemon is running (it processes them when it starts)`
                : `spool row(s) ${unfinished.map((row) => row.id).join(', ')} did not finish within ${waitSeconds} s`,
            ]),
      ];
      if (problems.length > 0) throw new AppError(notReplayed.some((row) => row.state === null) ? 'NOT_FOUND' : 'REPLAY_FAILED', problems.join('; '));
    });
}

/** Failures named one by one in the error; `replay --failed` may bring back thousands. */
const FAILURES_NAMED = 10;

function failedAgain(outcomes: InboundStanding[]): string[] {
  const failed = outcomes.filter((row) => row.state === 'failed');
  const named = failed.slice(0, FAILURES_NAMED).map((row) => `spool row ${row.id} ended failed: ${row.error ?? 'no error recorded'}`);
  return failed.length > FAILURES_NAMED ? [...named, `${failed.length - FAILURES_NAMED} more ended failed (inbound list --state failed)`] : named;
}

/** Rows that left received/processing have an outcome (processed, ignored, failed, suspended). */
function isFinished(state: InboundState): boolean {
  return state !== 'received' && state !== 'processing';
}

/** Reads the rows until every one has an outcome or the time is up; returns them as they stand. */
async function waitForOutcomes(ctx: CliContext, ids: number[], timeoutMs: number): Promise<InboundStanding[]> {
  const deadline = Date.now() + timeoutMs;
  const progress = createProgress(ctx.io, 'processing', ids.length);
  let heartbeatAt = Date.now() + WAIT_HEARTBEAT_MS;
  return ctx.withDb(async (db) => {
    for (;;) {
      const rows = await findInboundStandings(db, ids);
      const finished = rows.filter((row) => isFinished(row.state)).length;
      progress.tick(finished);
      if (finished === rows.length || Date.now() >= deadline) {
        progress.finish();
        return rows;
      }
      if (Date.now() >= heartbeatAt) {
        ctx.io.err('');
        heartbeatAt = Date.now() + WAIT_HEARTBEAT_MS;
      }
      await sleep(WAIT_POLL_MS);
    }
  });
}

function whyNotReplayed(id: number, state: InboundState | null): string {
  if (state === null) return `no spool row ${id}`;
  if (state === 'suspended') return `spool row ${id} is suspended: release it with \`mailroom suspended release ${id}\` (or delete it with \`mailroom suspended delete ${id}\`)`;
  if (state === 'receiving') return `spool row ${id} is still arriving (receiving): there is nothing to replay yet`;
  if (state === 'processing') return `spool row ${id} is being processed now (processing): replay it once it has finished`;
  return `spool row ${id} could not be replayed (it is ${state})`;
}

/** A spool row as `inbound list --json` shows it; `inbound show` adds to it. */
