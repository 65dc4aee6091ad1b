import { readFile } from 'node:fs/promises';
import type { Database } from '../../db/client.js';
import type { Config } from '../config.js';
import { claimDataDir, loadOrCreateSecret, pgliteDir, readDaemonInfo } from '../data-dir.js';
import { AppError } from '../errors.js';
import { QUEUES, type QueueSpec } from '../queue/job-queue.js';
import { requireConfig, type CliContext, type CliIO } from './context.js';

// The database driver, the migrations, BullMQ and the rules loader are imported when a command
// first asks for them: a command that needs none of them starts without loading them.

/** The context of a command run from a terminal: it opens what it needs and closes it again. */
export function createLocalContext(options: {
  io: CliIO;
  config: Config | null;
  configProblems: string[];
  startDaemon: () => Promise<number>;
}): CliContext {
  const ctx: CliContext = {
    io: options.io,
    config: options.config,
    configProblems: options.configProblems,
    async withDb(fn) {
      const config = requireConfig(ctx);
      if (config.databaseUrl) {
        const database = await openStorage(config);
        try {
          return await fn(database.db);
        } finally {
          await database.close();
        }
      }
      // Daemon stopped: this process owns the embedded database for the length of the command.
      const release = claimDataDir(config.dataDir, null);
      try {
        const database = await openStorage(config);
        try {
          const { migrateDatabase } = await import('../../db/migrate.js');
          await migrateDatabase(database);
          return await fn(database.db);
        } finally {
          await database.close();
        }
      } finally {
        release();
      }
    },
    enqueue: options.config?.redisUrl ? (ids) => enqueueVia(requireConfig(ctx), QUEUES.inbound, ids) : null,
    enqueueDeliveries: options.config?.redisUrl ? (ids) => enqueueVia(requireConfig(ctx), QUEUES.outbound, ids) : null,
    readFile: (path) => readFile(path),
    secret() {
      const config = requireConfig(ctx);
      return config.secret ?? loadOrCreateSecret(config.dataDir);
    },
    rules: async () => (await import('../rules-store.js')).readRulesFile(requireConfig(ctx).rulesFile),
    startDaemon: options.startDaemon,
    async migrate() {
      const config = requireConfig(ctx);
      if (!config.databaseUrl) {
        if (readDaemonInfo(config.dataDir)) return 'the running daemon applied the migrations at start-up';
        return ctx.withDb(async () => 'migrations applied'); // withDb migrates the embedded database
      }
      const database = await openStorage(config);
      try {
        const { migrateDatabase } = await import('../../db/migrate.js');
        await migrateDatabase(database, config.databaseUrl);
        return 'migrations applied';
      } finally {
        await database.close();
      }
    },
  };
  return ctx;
}

async function openStorage(config: Config): Promise<Database> {
  const { openDatabase } = await import('../../db/client.js');
  try {
    const database = await openDatabase({ url: config.databaseUrl ?? undefined, pgliteDir: pgliteDir(config.dataDir), poolSize: 2 });
    await database.ping();
    return database;
  } catch (err) {
    throw new AppError('STORAGE_UNAVAILABLE', `cannot open the database: ${(err as Error).message}`, { cause: err });
  }
}

/** Hands ids to a BullMQ queue the daemons work (only when REDIS_URL is set). */
async function enqueueVia(config: Config, spec: QueueSpec, ids: number[]): Promise<void> {
  const [{ createBullmqQueue }, { createLogger }] = await Promise.all([import('../queue/bullmq-queue.js'), import('../logger.js')]);
  const queue = createBullmqQueue(createLogger('silent'), { redisUrl: config.redisUrl!, spec, maxAttempts: config.worker.maxAttempts });
  try {
    for (const id of ids) await queue.enqueue(id);
  } finally {
    await queue.close();
  }
}
