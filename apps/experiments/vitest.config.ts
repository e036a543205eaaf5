import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts'],
    globalSetup: ['../../vitest.tmpdir.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two test files at once even on 2 cores (vitest's default is cores − 1 = 1): the e2e files
    // spend much of their time waiting on the MLflow server, Redis and child processes. Measured
    // alone on the 2-core machine, the 32 files took 467 s with one worker and 303 s with two.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
