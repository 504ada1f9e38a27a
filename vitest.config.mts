import { defineConfig } from 'vitest/config';

// Tests run in forked processes: the wasm backend and the faiss binding are native/global
// state that must not be shared between test files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private TMPDIR per run, removed at its end (test/globalSetup.ts).
    globalSetup: ['test/globalSetup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
