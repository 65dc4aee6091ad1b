import { needsDatabase } from './cli/context.js';
import { EXIT } from './cli/exit-codes.js';
import { parseConfig, type Config } from './config.js';
import { readDaemonInfo } from './data-dir.js';
import { AppError } from './errors.js';
import { formatStartFailure, startFailureExitCode } from './start-failure.js';

// Everything else is imported where it is used: a command loads only its own code, and only
// `start` loads the daemon (SMTP, queues, sender checks, metrics).

/** Entry point: config, then either the daemon or one CLI command. No logic of its own. */
async function main(argv: string[]): Promise<number> {
  const parsed = parseConfig(process.env);
  const config = parsed.ok ? parsed.config : null;
  const configProblems = parsed.ok ? [] : parsed.problems;

  // In embedded mode the running daemon owns PGlite: its database commands run inside it.
  if (config && !config.databaseUrl && needsDatabase(argv)) {
    const owner = readDaemonInfo(config.dataDir);
    if (owner && owner.httpPort === 0) {
      process.stderr.write(`mailroom: another mailroom command (pid ${owner.pid}) is using the embedded database; try again\n`);
      return EXIT.LOCKED;
    }
    // The rules file is this terminal's, as it would be for a command run here.
    const forwarded = argv[0] === 'rules' && !argv.some((arg) => arg === '--config' || arg.startsWith('--config=')) ? [...argv, '--config', config.rulesFile] : argv;
    if (owner) {
      const { createCliForwarder } = await import('./cli/forward.js');
      return createCliForwarder(owner).run(forwarded);
    }
  }
  const io = {
    out: (text: string) => void process.stdout.write(text),
    outBytes: (bytes: Buffer) => void process.stdout.write(bytes),
    err: (text: string) => void process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
  };
  const [{ createLocalContext }, { runCli }] = await Promise.all([import('./cli/local-context.js'), import('./cli/program.js')]);
  const ctx = createLocalContext({ io, config, configProblems, startDaemon: () => runDaemon(config, configProblems) });
  return runCli(argv, ctx);
}

async function runDaemon(config: Config | null, problems: string[]): Promise<number> {
  if (!config) {
    process.stderr.write(`mailroom: invalid environment:\n  ${problems.join('\n  ')}\n`);
    return EXIT.CONFIG;
  }
  const [{ createApp }, { createLogger }, { isKnownDriverGlitch }] = await Promise.all([import('./app.js'), import('./logger.js'), import('./driver-glitch.js')]);
  const logger = createLogger(config.logLevel);
  const app = createApp(config, { logger, environment: process.env });
  try {
    await app.start();
  } catch (err) {
    // A person at a terminal reads one line; systemd and docker collect the JSON log line.
    const onTerminal = Boolean(process.stdout.isTTY) || process.env.MAILROOM_INTERNAL_FORCE_TTY === '1';
    if (!onTerminal) logger.fatal({ event: 'app.start_failed', code: err instanceof AppError ? err.code : undefined, err }, 'mailroom could not start');
    await app.stop().catch(() => undefined);
    logger.flush();
    if (onTerminal) process.stderr.write(formatStartFailure(err));
    return startFailureExitCode(err);
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) {
        logger.warn({ event: 'app.forced_exit', signal }, 'second signal: exiting now');
        process.exit(EXIT.FAILURE);
      }
      stopping = true;
      logger.info({ event: 'app.stopping', signal }, 'shutting down');
      const force = setTimeout(() => {
        logger.error({ event: 'app.shutdown_timeout' }, 'shutdown took too long; exiting');
        process.exit(EXIT.FAILURE);
      }, config.smtp.shutdownGraceMs + 15_000);
      force.unref();
      app.stop().then(
        () => resolve(EXIT.OK),
        (err: unknown) => {
          logger.error({ event: 'app.stop_failed', err }, 'shutdown failed');
          resolve(EXIT.FAILURE);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGHUP', () => {
      void app.reloadRules();
    });
    const fatal = (kind: string) => (err: unknown) => {
      if (isKnownDriverGlitch(err)) {
        logger.error({ event: 'postgres.driver_error', kind, err }, 'postgres driver failed on a closed connection; continuing');
        return;
      }
      logger.fatal({ event: 'app.fatal', kind, err }, 'unexpected failure; shutting down');
      shutdown(kind);
    };
    process.on('unhandledRejection', fatal('unhandledRejection'));
    process.on('uncaughtException', fatal('uncaughtException'));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mailroom: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = EXIT.FAILURE;
  },
);
