import { defineConfig } from 'vitest/config';

// One config for both modes: with DATABASE_URL and REDIS_URL set the integration suites run
// against real PostgreSQL and BullMQ; without them, against PGlite and the in-process queue.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: integration files start a daemon each; more workers only contend.
    maxWorkers: 2,
  },
});
