import type { Command } from 'commander';
import { renameContact } from '../../../db/contacts.js';
import { addTicketEvent } from '../../../db/tickets.js';
import { addressProblem } from '../../../parsers/addresses.js';
import { AppError } from '../../errors.js';
import { resendDelivery } from '../../tickets/resend-delivery.js';
import { printJson, type CliContext } from '../context.js';
import { positive } from './tickets.js';

/** Fixing what did not arrive: sending a delivery again, correcting a contact's address. */
export function registerDeliveryFixCommands(program: Command, ctx: CliContext): void {
  program
    .command('deliveries')
    .description('mail mailroom sent')
    .command('resend')
    .description('send a delivery again as a new mail on the same ticket: to the recipients it failed for, or to a corrected address')
    .argument('<id>', 'delivery id (outbound list, failures, tickets show)')
    .option('--to <address>', 'send it to this address instead (a corrected one); it joins the ticket')
    .option('--unsuppress', "lift the address's suppression first (without it a suppressed address is refused)")
    .option('--reason <text>', 'why, for the ticket’s event log')
    .option('--by <name>', 'who asks, for the ticket’s event log', 'cli')
    .option('--json', 'machine-readable output (see README)')
    .action(async (idText: string, options: { to?: string; unsuppress?: boolean; reason?: string; by: string; json?: boolean }) => {
      const ruleSet = await ctx.rules();
      const result = await ctx.withDb((db) =>
        db.transaction((tx) => resendDelivery(tx, { ruleSet, secret: ctx.secret() }, positive(idText), { to: options.to, unsuppress: options.unsuppress, by: options.by, reason: options.reason })),
      );
      if (ctx.enqueueDeliveries) await ctx.enqueueDeliveries([result.deliveryId]);
      const queued = ctx.enqueueDeliveries !== null;
      if (options.json) {
        printJson(ctx, { ...result, queued });
        return;
      }
      ctx.io.out(
        `delivery ${idText} sent again as delivery ${result.deliveryId} on ticket ${result.ticketNumber} to ${result.to.join(', ')}` +
          `${result.unsuppressed.length ? ` (suppression lifted: ${result.unsuppressed.join(', ')})` : ''}; ${queued ? 'queued' : 'the daemon sends it at its next sweep'}\n`,
      );
    });

  program
    .command('contacts')
    .description('the people mail comes from and goes to')
    .command('rename')
    .description("correct a contact's address: its tickets and history stay, each ticket gets an event")
    .argument('<old>', 'the address as known')
    .argument('<new>', 'the right address')
    .option('--by <name>', 'who asks, for the tickets’ event logs', 'cli')
    .option('--json', 'machine-readable output (see README)')
    .action(async (oldAddress: string, newAddress: string, options: { by: string; json?: boolean }) => {
      const problem = addressProblem(newAddress.trim());
      if (problem) throw new AppError('USAGE', `${newAddress}: ${problem}`);
      if (oldAddress.trim().toLowerCase() === newAddress.trim().toLowerCase()) throw new AppError('USAGE', 'the old and new addresses are the same');
      const renamed = await ctx.withDb((db) =>
        db.transaction(async (tx) => {
          const result = await renameContact(tx, oldAddress, newAddress);
          if (!result) throw new AppError('NOT_FOUND', `no contact ${oldAddress.trim().toLowerCase()}`);
          for (const ticketId of result.ticketIds) {
            await addTicketEvent(tx, ticketId, 'contact.renamed', { from: oldAddress.trim().toLowerCase(), to: newAddress.trim().toLowerCase(), by: options.by, merged: result.merged });
          }
          return result;
        }),
      );
      if (options.json) {
        printJson(ctx, { from: oldAddress.trim().toLowerCase(), to: newAddress.trim().toLowerCase(), tickets: renamed.ticketIds.length, merged: renamed.merged, suppressionCleared: renamed.suppressionCleared });
        return;
      }
      ctx.io.out(
        `${oldAddress.trim().toLowerCase()} is now ${newAddress.trim().toLowerCase()} on ${renamed.ticketIds.length} ticket(s)` +
          `${renamed.merged ? ' (merged into the existing contact)' : ''}${renamed.suppressionCleared ? '; the old address’s suppression does not carry over' : ''}\n`,
      );
    });
}
