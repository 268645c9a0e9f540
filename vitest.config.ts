import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Timeouts catch a hang, never a slow run: the machines that run the tests are shared and
    // can be busy (a run at load 10 took several tests past 60 s), so the default is 5 minutes
    // and tests bound their work by counts, not by time.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
