import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ANSWER_WITHIN_MS, readiness, sample, scrape } from '../helpers/probes.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Probes while Redis is down: a fault suite (real mode, where BullMQ runs), with a Redis server of
 * the test's own so it can be killed without touching the one other suites use.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function app(options: Parameters<typeof startTestApp>[0] = {}): Promise<TestApp> {
  const t = await startTestApp(options);
  cleanups.push(() => t.close());
  return t;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a Redis server answers PING on `port`. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('close', () => resolve(false));
    socket.once('error', () => resolve(false));
  });
}

/** A Redis server of the test's own, so the test can stop it without touching anyone else's. */
async function startRedis(port: number): Promise<{ kill(): Promise<void> }> {
  const child: ChildProcess = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => answersPing(port), `redis-server on port ${port}`);
  return {
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('monitoring while Redis is down', () => {
  it('answers /metrics within 2 s with the queues down, logs one redis_down for every retry and redis_up with the count, and stops in < 10 s', async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    cleanups.push(() => redis.kill());
    const t = await app({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    expect(sample((await scrape(t)).text, 'mailroom_queue_up{queue="mailroom-inbound"}')).toBe(1);

    await redis.kill();
    await waitFor(() => t.logs.events('queue.redis_down').length > 0, 'queue.redis_down');
    // The reconnect attempts go on (at DEBUG); the WARN stays one line.
    await waitFor(() => t.logs.events('queue.redis_error').length >= 4, 'several failed reconnects', 20_000);
    const { ms, text } = await scrape(t);
    expect(ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(sample(text, 'mailroom_queue_up{queue="mailroom-inbound"}')).toBe(0);
    expect(sample(text, 'mailroom_queue_up{queue="mailroom-outbound"}')).toBe(0);
    expect(sample(text, 'mailroom_queue_depth{queue="mailroom-inbound"}'), 'no depth from a queue that did not answer').toBeNull();
    const ready = await readiness(t);
    expect(ready.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(ready.status).toBe(503);
    expect(ready.body.checks.queue!.ok).toBe(false);

    const down = t.logs.events('queue.redis_down');
    expect(down).toHaveLength(1);
    expect(down[0]).toMatchObject({ level: 40, err: { message: expect.stringMatching(/ECONNREFUSED/) } });
    expect(t.logs.events('queue.redis_error').every((line) => line.level === 20)).toBe(true);
    const queueWarnings = t.logs.lines.filter((line) => line.level >= 40 && String(line.event).startsWith('queue.'));
    expect(queueWarnings.map((line) => line.event)).toEqual(['queue.redis_down']);

    redis = await startRedis(port);
    const up = await waitFor(() => t.logs.events('queue.redis_up')[0], 'queue.redis_up', 20_000);
    expect(up.suppressedErrors as number).toBeGreaterThanOrEqual(4);
    expect(up.downMs as number).toBeGreaterThan(0);
    // Each connection reconnects on its own backoff: the first one back ends the outage in the log.
    await waitFor(async () => sample((await scrape(t)).text, 'mailroom_queue_up{queue="mailroom-inbound"}') === 1, 'the inbound queue up again', 20_000);

    await redis.kill();
    await waitFor(() => t.logs.events('queue.redis_down').length === 2, 'the second outage');
    const stopping = Date.now();
    await t.app.stop();
    expect(Date.now() - stopping, 'ms to stop with Redis down').toBeLessThan(10_000);
    // Not by waiting out the close timeout: with Redis down there is nothing to wait for.
    expect(t.logs.events('queue.close_timeout')).toEqual([]);
  }, 90_000);
});
