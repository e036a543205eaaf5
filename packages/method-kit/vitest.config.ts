import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.spec.ts'],
    globalSetup: ['../../vitest.tmpdir.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
