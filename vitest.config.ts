import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Retry and backoff waits are scaled down through CLOUDSUITE_SYNC_TIME_SCALE instead of slept.
    env: { CLOUDSUITE_SYNC_TIME_SCALE: '0.001' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
