/**
 * Our side's thread count in the benchmarks. With the native kernels (src/backend/native)
 * our step runs on the native kernels' OpenMP threads, so each row sets ours to the peer's thread count:
 * 1 thread vs 1 thread, 2 vs 2. Without them (pure wasm) ours is one thread in every row.
 */
import { tf } from '../backend/tf';
import { setNativeThreads, threadsFromEnv } from '../backend/native/addon';
import { activeNativeKernels } from '../backend/wasmKernels';
import { threadWord } from './types';

/** Sets our threads to `n` where we can; returns the count our side actually runs. */
export function useOurThreads(n: number): number {
  if (tf.getBackend() !== 'wasm' || !activeNativeKernels()) return 1;
  setNativeThreads(n);
  return n;
}

/** Back to the process default (`CARP_THREADS`, or every core). */
export function restoreOurThreads(): void {
  if (tf.getBackend() === 'wasm' && activeNativeKernels()) setNativeThreads(threadsFromEnv());
}

/** The backend column of a row: `wasm+native` when the native kernels run. */
export function ourBackend(): string {
  const b = tf.getBackend();
  return b === 'wasm' && activeNativeKernels() ? 'wasm+native' : b;
}

/** A note naming our kernels and threads for the row. */
export function ourThreadsNote(n: number): string {
  const native = tf.getBackend() === 'wasm' ? activeNativeKernels() : undefined;
  return native
    ? `ours: ${threadWord(n)} (tfjs wasm + native kernels on ${native.library}, ${native.isa})`
    : `ours: 1 thread (tfjs ${tf.getBackend()}; native kernels off)`;
}
