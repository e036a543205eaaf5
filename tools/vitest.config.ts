import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.spec.ts'],
    globalSetup: ['../vitest.tmpdir.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
  },
});
