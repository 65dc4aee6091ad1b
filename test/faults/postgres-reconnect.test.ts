import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../db/client.js';
import { reportScenario } from './fault-harness.js';
import { startDatabaseProxy, viaProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * After an outage the pool must work again as soon as the database does. postgres.js waits before
 * each reconnect for a delay that grows with every failed connect of the pool (3^n / 100 s, up to
 * 20 s): ten connections retrying through a ten-second outage reach the cap, and the daemon would
 * sit idle for up to 20 s after the database came back, its queue's retries running out meanwhile.
 */
const POOL_SIZE = 10;

let proxy: TcpProxy;
let database: Database;

beforeAll(async () => {
  proxy = await startDatabaseProxy();
  database = await openDatabase({ url: viaProxy(process.env.DATABASE_URL!, proxy), poolSize: POOL_SIZE });
});
afterAll(async () => {
  await database?.close();
  await proxy?.close();
});

const everyConnection = (): Promise<unknown> => Promise.all(Array.from({ length: POOL_SIZE }, () => database.db.execute(sql`select pg_sleep(0.05)`)));

describe('PostgreSQL that comes back after an outage', () => {
  it('serves every connection of the pool again within seconds of its return', async () => {
    await everyConnection();
    await proxy.cut();
    // Queries keep arriving (and failing) while it is down, as a busy daemon's would.
    const outageEnds = Date.now() + 6_000;
    let failures = 0;
    let slowestFailureMs = 0;
    await Promise.all(
      Array.from({ length: POOL_SIZE }, async () => {
        while (Date.now() < outageEnds) {
          const started = Date.now();
          await database.db.execute(sql`select 1`).then(
            () => expect.fail('a query succeeded while the database was cut off'),
            () => {
              failures += 1;
              slowestFailureMs = Math.max(slowestFailureMs, Date.now() - started);
            },
          );
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }),
    );
    expect(failures).toBeGreaterThan(POOL_SIZE);
    // Each query told at once that the database is not there, so intake can answer 451 at once.
    expect(slowestFailureMs, 'ms the slowest query waited to fail while the database was down').toBeLessThan(3_000);
    await proxy.restore();
    const restored = Date.now();
    await everyConnection();
    reportScenario('postgres: pool back after an outage', { failures, slowestFailureMs, backAfterMs: Date.now() - restored });
    expect(Date.now() - restored, 'ms from the database coming back to every connection answering').toBeLessThan(3_000);
  }, 90_000);
});
