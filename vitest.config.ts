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
  },
});
