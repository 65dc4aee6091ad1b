import { Command, CommanderError } from 'commander';
import { AppError } from '../errors.js';
import type { CliContext } from './context.js';
import { EXIT } from './exit-codes.js';
import { packageVersion } from './version.js';

export { EXIT } from './exit-codes.js';

type RegisterCommands = (program: Command, ctx: CliContext, setExit: (code: number) => void) => void;

/**
 * The module that defines each top-level command. A command line imports only the modules of the
 * command it names, so it starts in the time its own code takes to load, not every command's;
 * help and a mistyped command import them all, to list them. `tickets reply` lives with the
 * delivery commands and adds itself to `tickets`, so those commands need the tickets module first.
 */
const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<RegisterCommands> }> = [
  { commands: ['config'], load: async () => (await import('./commands/config-check.js')).registerConfigCommands },
  { commands: ['tickets', 'bounces', 'suppressions', 'failures'], load: async () => (await import('./commands/tickets.js')).registerTicketCommands },
  { commands: ['tickets', 'bounces', 'suppressions', 'failures'], load: async () => (await import('./commands/bounces.js')).registerDeliveryCommands },
  { commands: ['inbound'], load: async () => (await import('./commands/inbound.js')).registerInboundCommands },
  { commands: ['suspended'], load: async () => (await import('./commands/suspended.js')).registerSuspendedCommands },
  { commands: ['outbound'], load: async () => (await import('./commands/outbound.js')).registerOutboundCommands },
  { commands: ['deliveries', 'contacts'], load: async () => (await import('./commands/deliveries.js')).registerDeliveryFixCommands },
  { commands: ['parse'], load: async () => (await import('./commands/parse.js')).registerParseCommand },
  { commands: ['rules'], load: async () => (await import('./commands/rules.js')).registerRulesCommands },
  { commands: ['webhooks'], load: async () => (await import('./commands/webhooks.js')).registerWebhookCommands },
];

/** The modules a command line needs: none for --version or a command `program` already has. */
function modulesFor(argv: string[], program: Command): typeof COMMAND_MODULES {
  const named = argv[0] === 'help' ? argv[1] : argv[0];
  if (named === '-V' || named === '--version' || program.commands.some((command) => command.name() === named)) return [];
  const modules = COMMAND_MODULES.filter((module) => module.commands.includes(named ?? ''));
  return modules.length > 0 ? modules : COMMAND_MODULES;
}

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
    .version(packageVersion(), '-V, --version', 'print the version (package.json)')
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
  for (const register of await Promise.all(modulesFor(argv, program).map((module) => module.load()))) register(program, ctx, setExit);

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
