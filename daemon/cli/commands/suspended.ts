import type { Command } from 'commander';
import { loadInboundRaw } from '../../../db/inbound.js';
import { deleteSuspended, findSuspended, listSuspended, releaseSuspended } from '../../../db/suspended.js';
import { parseMessage, type ParsedMessage } from '../../../parsers/message.js';
import { AppError } from '../../errors.js';
import { formatTable, formatTime, printJson, truncate, type CliContext } from '../context.js';
import { describeSenderAuth, positive } from './tickets.js';

/** How much of a suspended mail's text `show` prints: enough to judge it, not to read a novel. */
const PREVIEW_CHARACTERS = 2000;

/** Mail kept aside (DMARC p=reject failures, upstream spam verdicts) until an operator decides. */
export function registerSuspendedCommands(program: Command, ctx: CliContext): void {
  const suspended = program.command('suspended').description('mail kept aside: no ticket, no mail, until released or deleted');

  suspended
    .command('list')
    .description('suspended mail, newest first')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { limit: string; json?: boolean }) => {
      const rows = await ctx.withDb((db) => listSuspended(db, positive(options.limit)));
      const listed = await Promise.all(
        rows.map(async (row) => {
          const parsed = await parseMessage(row.head, { keepAttachmentContent: false });
          const message = parsed.ok ? parsed.message : null;
          return {
            id: row.id,
            receivedAt: row.receivedAt.toISOString(),
            reason: row.reason,
            mailFrom: row.mailFrom,
            rcptTo: row.rcptTo,
            clientAddress: row.clientAddress,
            sizeBytes: row.sizeBytes,
            from: message?.from?.address ?? null,
            subject: message?.subject ?? null,
          };
        }),
      );
      if (options.json) {
        printJson(ctx, { suspended: listed });
        return;
      }
      if (listed.length === 0) {
        ctx.io.out('no suspended mail\n');
        return;
      }
      ctx.io.out(
        formatTable(
          ['ID', 'RECEIVED', 'REASON', 'FROM', 'SUBJECT'],
          listed.map((row) => [String(row.id), formatTime(new Date(row.receivedAt), ctx.io), row.reason ?? '', row.from ?? row.mailFrom ?? '<>', truncate(row.subject ?? '', 50)]),
        ),
      );
    });

  suspended
    .command('show')
    .description('one suspended mail: envelope, why it was suspended, sender checks, headers and the start of its text')
    .argument('<id>', 'spool row id')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = positive(idText);
      const { row, raw } = await ctx.withDb(async (db) => {
        const found = await findSuspended(db, id);
        if ('problem' in found) throw new AppError('NOT_FOUND', found.problem);
        const full = await db.query.inboundMessages.findFirst({ where: (table, { eq }) => eq(table.id, id) });
        if (!full) throw new AppError('NOT_FOUND', `no spool row ${id}`);
        return { row: found.row, raw: await loadInboundRaw(db, full) };
      });
      const parsed = await parseMessage(raw, { keepAttachmentContent: false });
      const message = parsed.ok ? parsed.message : null;
      const shown = {
        id: row.id,
        receivedAt: row.receivedAt.toISOString(),
        reason: row.stateReason,
        mailFrom: row.mailFrom,
        rcptTo: row.rcptTo,
        clientAddress: row.clientAddress,
        clientHelo: row.clientHelo,
        sizeBytes: row.sizeBytes,
        senderAuth: row.senderAuth ?? null,
        from: message?.from?.address ?? null,
        fromName: message?.from?.name ?? null,
        subject: message?.subject ?? null,
        date: message?.date?.toISOString() ?? null,
        messageId: message?.messageId ?? null,
        spamHeaders: message ? spamHeaders(message) : {},
        attachments: message?.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size })) ?? [],
        preview: message ? message.text.slice(0, PREVIEW_CHARACTERS) : null,
        parseError: parsed.ok ? null : parsed.error,
      };
      if (options.json) {
        printJson(ctx, shown);
        return;
      }
      const auth = shown.senderAuth;
      const lines = [
        `suspended mail ${shown.id}: ${shown.reason ?? ''}`,
        `received: ${formatTime(row.receivedAt, ctx.io)} from ${shown.clientAddress}${shown.clientHelo ? ` (${shown.clientHelo})` : ''}, ${shown.sizeBytes} bytes`,
        `envelope: ${shown.mailFrom || '<>'} → ${shown.rcptTo.join(', ')}`,
        `from: ${shown.fromName ? `${shown.fromName} <${shown.from}>` : (shown.from ?? '')}`,
        `subject: ${shown.subject ?? ''}`,
        auth ? describeSenderAuth(auth) : 'auth: not checked',
        ...Object.entries(shown.spamHeaders).map(([name, value]) => `${name}: ${truncate(value, 120)}`),
        ...shown.attachments.map((a) => `attachment: ${a.filename ?? '(unnamed)'} ${a.contentType} ${a.size} bytes`),
        shown.parseError ? `unreadable: ${shown.parseError}` : '',
        '',
        shown.preview ?? '',
        '',
        `release it with: mailroom suspended release ${shown.id}; delete it with: mailroom suspended delete ${shown.id}`,
      ];
      ctx.io.out(`${lines.filter((line, i) => line !== '' || i >= lines.length - 4).join('\n')}\n`);
    });

  suspended
    .command('release')
    .description('file the mail after all (as unverified if its sender could not be verified); it is not suspended again')
    .argument('<id>', 'spool row id')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = positive(idText);
      await ctx.withDb(async (db) => {
        if (await releaseSuspended(db, id)) return;
        const found = await findSuspended(db, id);
        throw new AppError('NOT_FOUND', 'problem' in found ? found.problem : `spool row ${id} could not be released`);
      });
      if (ctx.enqueue) await ctx.enqueue([id]);
      const queued = ctx.enqueue !== null;
      if (options.json) {
        printJson(ctx, { released: id, queued });
        return;
      }
      ctx.io.out(`spool row ${id} released; ${queued ? 'queued for processing' : 'the daemon picks it up at its next sweep or start'}\n`);
    });

  suspended
    .command('delete')
    .description('delete the mail for good (only suspended mail can be deleted)')
    .argument('<id>', 'spool row id')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idText: string, options: { json?: boolean }) => {
      const id = positive(idText);
      await ctx.withDb(async (db) => {
        if (await deleteSuspended(db, id)) return;
        const found = await findSuspended(db, id);
        throw new AppError('NOT_FOUND', 'problem' in found ? found.problem : `spool row ${id} could not be deleted`);
      });
      if (options.json) {
        printJson(ctx, { deleted: id });
        return;
      }
      ctx.io.out(`spool row ${id} deleted\n`);
    });
}

/** The spam filter headers a suspended mail carries, for the operator judging it. */
function spamHeaders(message: ParsedMessage): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, values] of message.headers) {
    if (/^x-(spam|rspamd|spamd)/.test(name) && values[0]) shown[name] = values[0];
  }
  return shown;
}
