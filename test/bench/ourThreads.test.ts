/**
 * Our side's threads in the bench rows: with the native kernels on wasm they follow the
 * peer's count and go back to the process default; the backend column says so.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNative, threadsFromEnv } from '../../src/backend/native/addon';
import {
  ourBackend,
  ourThreadsNote,
  restoreOurThreads,
  useOurThreads,
} from '../../src/bench/ourThreads';
import { initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

describe('our threads (wasm + native kernels)', () => {
  it('follow the peer’s count, then return to the process default', () => {
    const addon = loadNative().addon!;
    expect(ourBackend()).toBe('wasm+native');
    expect(useOurThreads(1)).toBe(1);
    expect(addon.getThreads()).toBe(1);
    expect(ourThreadsNote(1).startsWith('ours: 1 thread (tfjs wasm + native kernels on ')).toBe(
      true,
    );
    expect(useOurThreads(2)).toBe(2);
    expect(addon.getThreads()).toBe(2);
    expect(ourThreadsNote(2).startsWith('ours: 2 threads (')).toBe(true);
    restoreOurThreads();
    expect(addon.getThreads()).toBe(threadsFromEnv());
  });
});
