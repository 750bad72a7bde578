import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forks, not threads: argon2 and PGlite load native/WASM modules that are happiest one per process.
    pool: 'forks',
    // Two cores on CI: argon2 hashing, PGlite start-up and Chromium are slow-ish there, never hung.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
