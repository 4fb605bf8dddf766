import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Retry and backoff waits are scaled down through CLOUDSUITE_SYNC_TIME_SCALE instead of slept.
    // Tests that assert on logs inject a capturing logger; the shared one stays quiet.
    env: { CLOUDSUITE_SYNC_TIME_SCALE: '0.001', POWERTOOLS_LOG_LEVEL: 'ERROR' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default on a 2-core machine is one worker (cores - 1): files then run one at a time and a core idles
    // whenever a test waits on a child process (the CLI tests), DuckDB's threads or a scaled retry wait.
    maxWorkers: 2,
  },
});
