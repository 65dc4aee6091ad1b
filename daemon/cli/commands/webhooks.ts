import type { Command } from 'commander';
import { listWebhookDeliveries, retryFailedWebhookDeliveries, webhookDeliveryCounts } from '../../../db/webhooks.js';
import { AppError } from '../../errors.js';
import { webhookDeliveryRecord, webhookSummary } from '../../reports/webhook-records.js';
import { formatTable, formatTime, printJson, requireConfig, truncate, type CliContext } from '../context.js';
import { positive } from './tickets.js';

/** The webhooks of the rules file and their delivery log (the outbox in webhook_deliveries). */
export function registerWebhookCommands(program: Command, ctx: CliContext): void {
  const webhooks = program.command('webhooks').description('systems told about ticket changes: their deliveries, pending, delivered or failed');

  /** A webhook id known to the rules or to the outbox (a webhook removed from the rules keeps its log). */
  const known = async (id: string): Promise<void> => {
    const [rules, counts] = await Promise.all([ctx.rules(), ctx.withDb((db) => webhookDeliveryCounts(db))]);
    if (!rules.webhooks.some((hook) => hook.id === id) && !counts.has(id)) throw new AppError('NOT_FOUND', `no webhook "${id}" in the rules file or the delivery log`);
  };

  webhooks
    .command('list')
    .description('each configured webhook with its deliveries pending, delivered and failed, and the last error')
    .option('--json', 'machine-readable output (see README)')
    .action(async (options: { json?: boolean }) => {
      const [rules, counts] = await Promise.all([ctx.rules(), ctx.withDb((db) => webhookDeliveryCounts(db))]);
      const listed = rules.webhooks.map((hook) => webhookSummary(hook, counts.get(hook.id)));
      if (options.json) {
        printJson(ctx, { webhooks: listed });
        return;
      }
      if (listed.length === 0) {
        ctx.io.out('no webhooks in the rules file\n');
        return;
      }
      ctx.io.out(
        formatTable(
          ['ID', 'URL', 'EVENTS', 'PENDING', 'DELIVERED', 'FAILED', 'LAST ERROR'],
          listed.map((hook) => [
            hook.id,
            truncate(hook.url, 40),
            hook.events.join(','),
            String(hook.pending),
            String(hook.delivered),
            String(hook.failed),
            hook.lastError ? `${formatTime(new Date(hook.lastErrorAt!), ctx.io)} ${truncate(hook.lastError, 40)}` : '',
          ]),
        ),
      );
    });

  webhooks
    .command('log')
    .description("a webhook's deliveries, newest first")
    .argument('<id>', 'webhook id')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output (see README)')
    .action(async (id: string, options: { limit: string; json?: boolean }) => {
      const limit = positive(options.limit);
      await known(id);
      const rows = await ctx.withDb((db) => listWebhookDeliveries(db, id, limit));
      const listed = rows.map(webhookDeliveryRecord);
      if (options.json) {
        printJson(ctx, { webhook: id, deliveries: listed });
        return;
      }
      if (listed.length === 0) {
        ctx.io.out(`no deliveries for webhook ${id}\n`);
        return;
      }
      ctx.io.out(
        formatTable(
          ['ID', 'EVENT', 'TYPE', 'TICKET', 'STATE', 'TRIES', 'CREATED', 'NEXT', 'LAST'],
          listed.map((row) => [
            String(row.id),
            row.eventId,
            row.type,
            row.ticket === null ? '' : String(row.ticket),
            row.state,
            String(row.attempts),
            formatTime(new Date(row.createdAt), ctx.io),
            row.nextAttemptAt ? formatTime(new Date(row.nextAttemptAt), ctx.io) : '',
            truncate(row.lastError ?? (row.lastStatusCode === null ? '' : `HTTP ${row.lastStatusCode}`), 40),
          ]),
        ),
      );
    });

  webhooks
    .command('retry')
    .description("make a webhook's failed deliveries pending again, due now, with a new lifetime")
    .argument('<id>', 'webhook id')
    .option('--json', 'machine-readable output (see README)')
    .action(async (id: string, options: { json?: boolean }) => {
      const maxAgeMs = requireConfig(ctx).webhooks.maxAgeMs;
      await known(id);
      const now = new Date();
      const retried = await ctx.withDb((db) => retryFailedWebhookDeliveries(db, id, now, new Date(now.getTime() + maxAgeMs)));
      if (options.json) printJson(ctx, { webhook: id, retried });
      else ctx.io.out(retried.length === 0 ? `no failed deliveries for webhook ${id}\n` : `${retried.length} deliver${retried.length === 1 ? 'y' : 'ies'} pending again: ${retried.join(', ')}\n`);
    });
}
