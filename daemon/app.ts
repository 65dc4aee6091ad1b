import { randomBytes } from 'node:crypto';
import { openDatabase, type Database, type Db } from '../db/client.js';
import { migrateDatabase } from '../db/migrate.js';
import type { CliContext, CliIO } from './cli/context.js';
import { runCli } from './cli/program.js';
import { hidePassword, startProblems, type Config } from './config.js';
import { claimDataDir, loadOrCreateSecret, pgliteDir, publishDaemonInfo } from './data-dir.js';
import { PROBE_DEADLINE_MS, withDeadline } from './deadline.js';
import { AppError } from './errors.js';
import { listenProblem } from './listen-check.js';
import { checkTlsFiles } from './tls-files.js';
import { createHttpServer, type HttpServer, type Readiness } from './http/http-server.js';
import { createConsole } from './web/console.js';
import { createTokenCheck } from './http/api/auth.js';
import { createApiServices } from './http/api/services.js';
import { readApiTokens } from './http/api/tokens-file.js';
import { createLogger, type Logger } from './logger.js';
import { createInboundProcessor } from './pipeline/process-inbound.js';
import { authenticateSender } from './pipeline/sender-auth.js';
import { trustedSpfResult } from '../parsers/authentication-results.js';
import { createDnsResolver } from './dns-resolver.js';
import { createAddressRanges } from './smtp/address-ranges.js';
import { relayedClient } from '../parsers/received.js';
import { createBullmqQueue, createRedisOutageLog } from './queue/bullmq-queue.js';
import { createInProcessQueue } from './queue/in-process-queue.js';
import { QUEUES, type JobQueue, type QueueSpec } from './queue/job-queue.js';
import { createFailureStreak } from './failure-streak.js';
import { createMetrics } from './metrics.js';
import { createMetricsScrape } from './metrics-scrape.js';
import { createDeliverySender } from './outbound/send-delivery.js';
import { createOutboundTransport, type OutboundTransport } from './outbound/transport.js';
import { watchFile } from './watch-file.js';
import { createRulesStore, type RulesStore } from './rules-store.js';
import { createSmtpIntake, type SmtpIntake } from './smtp/smtp-intake.js';
import { createSweeper, type Sweeper } from './sweeper.js';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks/webhook-dispatcher.js';

/**
 * A statement of the daemon's pool still unanswered after this long fails and its silent
 * connection is closed (db/statement-deadline.ts): the worker gets its mail back for a retry
 * instead of waiting for ever on a connection the network lost. Far above any statement the
 * daemon runs; the server gives up at three quarters of it.
 */
const STATEMENT_DEADLINE_MS = 30_000;

export interface AppDeps {
  logger?: Logger;
  /** BullMQ key prefix; tests use one per test. */
  queuePrefix?: string;
  /** Embedded database location; defaults to `<data>/pglite`. Tests may pass `memory://`. */
  pgliteDir?: string;
  /** Where webhooks' `secret_env` variables are read; main.ts passes process.env. @defaultValue {} */
  environment?: Readonly<Record<string, string | undefined>>;
}

export interface RunningApp {
  smtpPort: number;
  httpPort: number;
}

export interface App {
  start(): Promise<RunningApp>;
  stop(): Promise<void>;
  reloadRules(): Promise<boolean>;
  /** Runs a CLI command line inside the daemon, on its database and queue. */
  runCommand(argv: string[], io: CliIO, files?: ReadonlyMap<string, Buffer>): Promise<number>;
  /** Available after start. */
  readonly db: Db;
  readonly queue: JobQueue;
  readonly outboundQueue: JobQueue;
  readonly sweeper: Sweeper;
  readonly logger: Logger;
}

/**
 * Builds the daemon from a validated config. Start order: rules, data folder, database and
 * migrations, queue and workers, sweeper, HTTP, SMTP last; stop in reverse.
 */
export function createApp(config: Config, deps: AppDeps = {}): App {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  let database: Database | null = null;
  let queue: JobQueue | null = null;
  let outboundQueue: JobQueue | null = null;
  let transport: OutboundTransport | null = null;
  let stopWatching: (() => void) | null = null;
  let secretValue: string | null = null;
  let sweeper: Sweeper | null = null;
  let webhooks: WebhookDispatcher | null = null;
  let rules: RulesStore | null = null;
  let http: HttpServer | null = null;
  let smtp: SmtpIntake | null = null;
  let releaseDataDir: (() => void) | null = null;

  const need = <T>(value: T | null, name: string): T => {
    if (value === null) throw new Error(`${name} is not available before start()`);
    return value;
  };

  async function readiness(): Promise<Readiness> {
    const probe = async (fn: () => Promise<void>): Promise<{ ok: boolean; error?: string }> => {
      try {
        // a probe that hangs is an answer too: a wedged dependency must not hang /readyz
        await withDeadline(fn(), PROBE_DEADLINE_MS, () => {
          throw new Error(`no answer within ${PROBE_DEADLINE_MS} ms`);
        });
        return { ok: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    };
    const [databaseCheck, queueCheck] = await Promise.all([
      probe(() => need(database, 'database').ping()),
      probe(async () => {
        await need(queue, 'queue').ping();
        await need(outboundQueue, 'outbound queue').ping();
      }),
    ]);
    const checks: Readiness['checks'] = { database: databaseCheck, queue: queueCheck };
    if (smtp) checks.intake = smtp.health();
    // The last good rules serve after a rejected edit: that is news for the logs and metrics, not
    // a reason to take every instance out of the load balancer at once.
    if (rules) {
      const reload = rules.lastReload();
      checks.rules = { ok: true, lastReload: { ok: reload.ok, at: reload.at.toISOString(), ...(reload.error === null ? {} : { error: reload.error }) } };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  async function start(): Promise<RunningApp> {
    const log = logger.child({ component: 'app' });
    // A missing TLS file is found here, before the database, rather than by the SMTP server last.
    const problems = [...startProblems(config), ...(await checkTlsFiles(config.smtp.tls))];
    if (problems.length > 0) throw new AppError('CONFIG_INVALID', problems.join('\n'));
    const apiTokens = await readApiTokens(config);
    rules = await createRulesStore(config.rulesFile, logger.child({ component: 'rules' }));
    const embedded = config.databaseUrl === null;
    if (embedded && !deps.pgliteDir?.startsWith('memory://')) releaseDataDir = claimDataDir(config.dataDir, null);
    const secret = config.secret ?? loadOrCreateSecret(config.dataDir);
    secretValue = secret;

    try {
      database = await openDatabase({ url: config.databaseUrl ?? undefined, pgliteDir: deps.pgliteDir ?? pgliteDir(config.dataDir), statementDeadlineMs: STATEMENT_DEADLINE_MS });
      await migrateDatabase(database, config.databaseUrl ?? undefined);
    } catch (err) {
      throw new AppError('STORAGE_UNAVAILABLE', `cannot open the database: ${(err as Error).message}`, { cause: err });
    }
    const db = database.db;

    // Both queues use the same Redis: one outage, logged once.
    const redisOutage = createRedisOutageLog(logger.child({ component: 'queue' }));
    const makeQueue = (spec: QueueSpec, maxAttempts: number): JobQueue =>
      config.redisUrl
        ? createBullmqQueue(logger.child({ component: 'queue', queue: spec.name }), { redisUrl: config.redisUrl, spec, prefix: deps.queuePrefix, maxAttempts, outage: redisOutage })
        : createInProcessQueue(logger.child({ component: 'queue', queue: spec.name }), spec, { maxAttempts });
    queue = makeQueue(QUEUES.inbound, config.worker.maxAttempts);
    // Deferrals are scheduled on the delivery row (next_attempt_at); the queue retries only crashes.
    outboundQueue = makeQueue(QUEUES.outbound, config.worker.maxAttempts);
    const currentRules = () => need(rules, 'rules').current();
    // While the queue is down every mail's enqueue fails: the first is logged, the rest counted.
    const enqueueFailures = createFailureStreak(log, {
      started: { event: 'queue.enqueue_failed', msg: 'enqueue failed; the sweeper will pick the row up' },
      repeated: { event: 'queue.enqueue_failed_again', msg: 'enqueue failed again; the sweeper will pick the row up' },
      ended: { event: 'queue.enqueue_recovered', msg: 'enqueues go through again' },
    });
    const enqueueDelivery = (id: number): void => {
      need(outboundQueue, 'outbound queue')
        .enqueue(id)
        .then(
          () => enqueueFailures.succeed(),
          (err: unknown) => enqueueFailures.fail(err, { deliveryId: id }),
        );
    };
    const dns = createDnsResolver(config.dnsServers);
    const fromTrustedRelay = createAddressRanges(config.smtp.trustedRelays);
    const processor = createInboundProcessor({
      db,
      logger: logger.child({ component: 'worker' }),
      rules: currentRules,
      secret,
      maxAttempts: config.worker.maxAttempts,
      softBounceLimit: config.softBounceLimit,
      metrics,
      concurrency: config.worker.concurrency,
      onDeliveryQueued: enqueueDelivery,
      fromTrustedRelay: (row) => fromTrustedRelay(row.clientAddress),
      authenticateSender: (raw, row) => {
        // Behind a trusted relay the client to check is the one the relay received from, and the
        // relay's own SPF verdict, when it stamped one, is the better word: it saw that client.
        const relayed = fromTrustedRelay(row.clientAddress);
        const client = (relayed ? relayedClient(raw) : null) ?? { ip: row.clientAddress || null, helo: row.clientHelo };
        const trustedSpf = relayed ? trustedSpfResult(raw, config.smtp.trustedAuthservIds) : null;
        return authenticateSender(raw, { ...client, mailFrom: row.mailFrom, trustedSpf }, dns, config.smtp.hostname);
      },
    });
    // Concurrency 0: an intake-only instance (an MX node); other instances on the same Redis work the jobs.
    if (config.worker.concurrency > 0) queue.startWorker(processor, config.worker.concurrency);
    transport = createOutboundTransport({ relayUrl: config.outboundTransport === 'relay' ? config.smtpRelay : null, outboxDir: config.outboxDir, hostname: config.smtp.hostname, logger });
    outboundQueue.startWorker(
      createDeliverySender({
        db,
        metrics,
        softBounceLimit: config.softBounceLimit,
        logger: logger.child({ component: 'sender' }),
        transport,
        secret,
        hostname: config.smtp.hostname,
        lifetime: config.outbound,
      }),
      2,
    );
    stopWatching = watchFile(config.rulesFile, () => void need(rules, 'rules').reload(), log);

    sweeper = createSweeper(db, { inbound: queue, outbound: outboundQueue }, logger.child({ component: 'sweeper' }), { intervalMs: config.worker.sweepIntervalMs });
    await sweeper.sweep(true);
    sweeper.start();
    webhooks = createWebhookDispatcher({
      db,
      logger: logger.child({ component: 'webhooks' }),
      metrics,
      webhooks: () => currentRules().webhooks,
      environment: deps.environment ?? {},
      options: config.webhooks,
    });
    // The first pass places new webhooks' cursors before any mail of this run is taken.
    await webhooks.pass();
    webhooks.start();

    const cliToken = randomBytes(24).toString('hex');
    const tokenCheck = createTokenCheck(apiTokens);
    const enqueue = (id: number): void => {
      need(queue, 'queue')
        .enqueue(id)
        .then(
          () => enqueueFailures.succeed(),
          (err: unknown) => enqueueFailures.fail(err, { inboundId: id }),
        );
    };
    const depthQueues = [
      { name: QUEUES.inbound.name, queue },
      { name: QUEUES.outbound.name, queue: outboundQueue },
    ];
    const rulesView = () => ({ file: config.rulesFile, ruleSet: currentRules(), lastReload: need(rules, 'rules').lastReload(), problems: need(rules, 'rules').lastProblems() });
    const apiServices = createApiServices({ db, rules: currentRules, rulesView, secret, metrics, enqueueDelivery, enqueueInbound: enqueue, webhookMaxAgeMs: config.webhooks.maxAgeMs });
    http = createHttpServer({
      host: config.http.host,
      port: config.http.port,
      logger: logger.child({ component: 'http' }),
      readiness,
      metrics: createMetricsScrape({
        metrics,
        db,
        queues: depthQueues,
        rules,
      }),
      runCli: embedded ? runCommand : null,
      cliToken,
      api: apiTokens.length > 0 ? { authenticate: tokenCheck, services: apiServices } : null,
      // The console signs in with the same tokens and roles as the API.
      console:
        apiTokens.length > 0
          ? createConsole({
              db: () => db,
              services: () => apiServices,
              rules: rulesView,
              authenticate: (token) => tokenCheck(`Bearer ${token}`),
              secret: () => secret,
              // Null for a queue that did not answer in time, as the metrics scrape leaves it out.
              queueDepths: () => Promise.all(depthQueues.map(async (q) => ({ name: q.name, depth: await withDeadline<number | null>(q.queue.depth(), PROBE_DEADLINE_MS, () => null).catch(() => null) }))),
            })
          : null,
    });
    const httpPort = await http.listen().catch(listenFailed('MAILROOM_HTTP_PORT', config.http));
    if (releaseDataDir) publishDaemonInfo(config.dataDir, { pid: process.pid, httpHost: config.http.host, httpPort, token: cliToken });

    smtp = createSmtpIntake({ config, db, logger: logger.child({ component: 'smtp' }), rules: currentRules, onStored: enqueue, metrics });
    const smtpPort = await smtp.listen().catch(listenFailed('MAILROOM_SMTP_PORT', config.smtp));
    log.info(
      {
        event: 'app.started',
        smtpPort,
        httpPort,
        database: database.kind,
        queue: queue.kind,
        rulesFile: config.rulesFile,
        outbound: config.outboundTransport === 'relay' ? { transport: 'relay', relay: hidePassword(config.smtpRelay) } : { transport: 'outbox', folder: config.outboxDir },
      },
      'mailroom started',
    );
    return { smtpPort, httpPort };
  }

  function runCommand(argv: string[], io: CliIO, files: ReadonlyMap<string, Buffer> = new Map()): Promise<number> {
    const db = need(database, 'database').db;
    const ctx: CliContext = {
      io,
      config,
      configProblems: [],
      withDb: (fn) => fn(db),
      enqueue: async (ids) => {
        for (const id of ids) await need(queue, 'queue').enqueue(id);
      },
      enqueueDeliveries: async (ids) => {
        for (const id of ids) await need(outboundQueue, 'outbound queue').enqueue(id);
      },
      readFile: async (path) => {
        const file = files.get(path);
        if (!file) throw new AppError('NOT_FOUND', `${path}: no such file was sent with the command`);
        return file;
      },
      secret: () => need(secretValue, 'secret'),
      rules: async () => need(rules, 'rules').current(),
      startDaemon: null,
      migrate: null,
    };
    return runCli(argv, ctx);
  }

  async function stop(): Promise<void> {
    const log = logger.child({ component: 'app' });
    await smtp?.close();
    await http?.close();
    stopWatching?.();
    sweeper?.stop();
    await webhooks?.stop();
    webhooks = null;
    // Each close is bounded (a queue on an unreachable Redis gives up waiting); together, not one after the other.
    await Promise.all([queue?.close(), outboundQueue?.close()]);
    transport?.close();
    await database?.close();
    releaseDataDir?.();
    smtp = null;
    http = null;
    queue = null;
    outboundQueue = null;
    transport = null;
    stopWatching = null;
    database = null;
    releaseDataDir = null;
    log.info({ event: 'app.stopped' }, 'mailroom stopped');
  }

  return {
    start,
    stop,
    reloadRules: () => need(rules, 'rules').reload(),
    runCommand,
    get db() {
      return need(database, 'database').db;
    },
    get queue() {
      return need(queue, 'queue');
    },
    get outboundQueue() {
      return need(outboundQueue, 'outbound queue');
    },
    get sweeper() {
      return need(sweeper, 'sweeper');
    },
    logger,
  };
}

/** A listen error as LISTEN_FAILED, worded for the operator: `MAILROOM_SMTP_PORT: port 2525 on 127.0.0.1 is in use`. */
function listenFailed(variable: string, where: { host: string; port: number }): (err: unknown) => never {
  return (err) => {
    throw new AppError('LISTEN_FAILED', `${variable}: ${listenProblem(err, where.host, where.port)}`, { cause: err });
  };
}
