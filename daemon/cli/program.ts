import { Command, CommanderError } from 'commander';
import { AppError } from '../errors.js';
import { registerDeliveryCommands } from './commands/bounces.js';
import { registerConfigCommands } from './commands/config-check.js';
import { registerInboundCommands } from './commands/inbound.js';
import { registerParseCommand } from './commands/parse.js';
import { registerDeliveryFixCommands } from './commands/deliveries.js';
import { registerOutboundCommands } from './commands/outbound.js';
import { registerRulesCommands } from './commands/rules.js';
import { registerSuspendedCommands } from './commands/suspended.js';
import { registerTicketCommands } from './commands/tickets.js';
import type { CliContext } from './context.js';

/** CLI exit codes; README documents them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  /** The environment or the rules file is invalid (sysexits EX_CONFIG). */
  CONFIG: 78,
  /** The database could not be opened or migrated (sysexits EX_UNAVAILABLE). */
  STORAGE: 69,
  /** The embedded database belongs to another running process (sysexits EX_TEMPFAIL). */
  LOCKED: 75,
} as const;

/**
 * Runs one command line against a context. The same code runs in the terminal and, for
 * database commands in embedded mode, inside the daemon that owns the database.
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let exitCode: number = EXIT.OK;
  const setExit = (code: number): void => {
    exitCode = Math.max(exitCode, code);
  };
  const program = new Command('mailroom')
    .description('helpdesk mail daemon: SMTP intake, tickets, rules-driven replies, bounce tracking')
    .exitOverride()
    .configureOutput({ writeOut: (text) => ctx.io.out(text), writeErr: (text) => ctx.io.err(text) })
    .showHelpAfterError(false);

  program
    .command('start')
    .description('run the daemon (SMTP intake, workers, HTTP) until SIGTERM or SIGINT')
    .action(async () => {
      if (!ctx.startDaemon) throw new AppError('USAGE', 'start is only available from the command line');
      setExit(await ctx.startDaemon());
    });
  program
    .command('migrate')
    .description('apply database migrations (the daemon also does this at start)')
    .action(async () => {
      if (!ctx.migrate) throw new AppError('USAGE', 'migrate is only available from the command line');
      ctx.io.out(`${await ctx.migrate()}\n`);
    });
  registerConfigCommands(program, ctx, setExit);
  registerTicketCommands(program, ctx);
  registerDeliveryCommands(program, ctx);
  registerInboundCommands(program, ctx);
  registerSuspendedCommands(program, ctx);
  registerOutboundCommands(program, ctx);
  registerDeliveryFixCommands(program, ctx);
  registerParseCommand(program, ctx, setExit);
  registerRulesCommands(program, ctx, setExit);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof AppError) {
      ctx.io.err(`mailroom: ${err.message}\n`);
      if (err.code === 'USAGE') return EXIT.USAGE;
      if (err.code === 'CONFIG_INVALID') return EXIT.CONFIG;
      if (err.code === 'DATA_DIR_LOCKED') return EXIT.LOCKED;
      if (err.code === 'STORAGE_UNAVAILABLE') return EXIT.STORAGE;
      return EXIT.FAILURE;
    }
    ctx.io.err(`mailroom: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAILURE;
  }
}
