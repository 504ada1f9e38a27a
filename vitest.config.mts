import { defineConfig } from 'vitest/config';

// Tests run in forked processes: the wasm backend and the faiss binding are native/global
// state that must not be shared between test files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
