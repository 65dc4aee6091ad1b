import { defineConfig } from 'vitest/config';

const realMode = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

// One config for both modes: with DATABASE_URL and REDIS_URL set the integration suites run
// against real PostgreSQL and BullMQ; without them, against PGlite and the in-process queue.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fault suites (crashes, outages, 10,000 fuzz cases, load) are the production proof and
    // run against the production stack, PostgreSQL and Redis: in real mode only, which .ci/run
    // always runs. `npm run test:faults` runs them embedded too.
    exclude: realMode || process.env.MAILROOM_FAULTS === '1' ? [] : ['test/faults/**'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Generous: each file starts a daemon, some a browser or CLI processes, two files at a time on
    // two cores; a test that fails does so on an assertion, not on a busy machine's clock.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: integration files start a daemon each; more workers only contend.
    maxWorkers: 2,
  },
});
