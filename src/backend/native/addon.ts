/**
 * The kit's native kernels (native/carp_native.cc): convolution forward and
 * gradients, matMul, training-mode batch norm and the max-pool gradient, the products on
 * OpenBLAS's multi-threaded SGEMM,
 * computed in place on the tensors of the wasm backend's heap. They lift the CPU path
 * above the one-thread, 128-bit-SIMD ceiling of tfjs-wasm (docs/performance.md).
 *
 * The addon is compiled by `npm ci` (native/build.mjs, against Debian's
 * libopenblas) into `build/native/carp_native.node`. It is optional: where it is missing
 * or `CARP_NATIVE=0`, the wasm backend runs our pure-wasm kernels as before, and the
 * reason is part of the backend log line.
 *
 * Threads: `CARP_THREADS` (default: every core `os.availableParallelism()` reports).
 * OpenBLAS's own thread count is set for the duration of each native kernel and restored
 * after, so faiss (which wants OpenBLAS single-threaded, architecture §7.1) is unaffected.
 * (Where the user set `OPENBLAS_NUM_THREADS`, that stays the process-wide default.)
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** The functions the compiled addon exports (see carp_native.cc for the argument order). */
export interface NativeAddon {
  conv2d(heap: Uint8Array, x: number, w: number, y: number, ...geometry: number[]): void;
  conv2dBackpropInput(heap: Uint8Array, dy: number, w: number, dx: number, ...g: number[]): void;
  conv2dBackpropFilter(heap: Uint8Array, x: number, dy: number, dw: number, ...g: number[]): void;
  maxPoolGrad(heap: Uint8Array, dy: number, x: number, dx: number, ...geometry: number[]): void;
  matMul(
    heap: Uint8Array,
    a: number,
    b: number,
    c: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: number,
    transposeB: number,
  ): void;
  batchNormForward(
    heap: Uint8Array,
    x: number,
    gamma: number,
    beta: number,
    residual: number,
    y: number,
    mean: number,
    variance: number,
    rows: number,
    channels: number,
    epsilon: number,
    relu: number,
    hasResidual: number,
  ): void;
  batchNormBackward(
    heap: Uint8Array,
    dy: number,
    x: number,
    mean: number,
    variance: number,
    gamma: number,
    reluY: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    dresidual: number,
    rows: number,
    channels: number,
    epsilon: number,
    relu: number,
    hasResidual: number,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  blasInfo(): { core: string; config: string };
}

/** What the log line and benchmark reports say about the native kernels. */
export interface NativeSummary {
  /** OpenBLAS's kernel family for this CPU (e.g. `Cooperlake`, `Haswell`). */
  blasCore: string;
  /** Threads the native kernels use. */
  threads: number;
}

/** Where the build puts the addon: `<package root>/build/native/carp_native.node`. */
export const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'native', 'carp_native.node');

let loaded: { addon?: NativeAddon; reason?: string } | undefined;

/** Parses `CARP_THREADS`; throws naming the variable when it is not a positive integer. */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CARP_THREADS;
  if (raw === undefined || raw.trim() === '') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) {
    throw new Error(`CARP_THREADS=${JSON.stringify(raw)} must be an integer from 1 to 1024`);
  }
  return n;
}

/**
 * Loads the addon once (with `CARP_THREADS` threads). Returns `{ reason }` instead when it
 * is disabled (`CARP_NATIVE=0`), not built, or fails to load.
 */
export function loadNative(env: NodeJS.ProcessEnv = process.env): {
  addon?: NativeAddon;
  reason?: string;
} {
  if (loaded) return loaded;
  // A bad CARP_THREADS is the user's error, not a load failure: it must not quietly fall
  // back to the slow path, so it throws (uncached) instead of becoming a `reason`.
  if (env.CARP_NATIVE !== '0') threadsFromEnv(env);
  if (env.CARP_NATIVE === '0') {
    loaded = { reason: 'disabled by CARP_NATIVE=0' };
  } else if (!existsSync(ADDON_PATH)) {
    loaded = { reason: `not built (${ADDON_PATH} missing; run npm ci)` };
  } else {
    try {
      // OpenBLAS reads OPENBLAS_NUM_THREADS once, when the first of its users loads. Its
      // process-wide default must stay 1 for faiss (src/search/faiss.ts sets the same):
      // loaded first with every core, it made faiss k-means 2× slower (bench, measured).
      // Our kernels raise the count only for their own calls.
      if (env.OPENBLAS_NUM_THREADS === undefined) process.env.OPENBLAS_NUM_THREADS = '1';
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const addon = require(ADDON_PATH) as NativeAddon;
      addon.setThreads(threadsFromEnv(env));
      loaded = { addon };
    } catch (e) {
      loaded = { reason: `failed to load (${(e as Error).message.split('\n')[0]})` };
    }
  }
  return loaded;
}

/** The loaded addon's summary, or undefined when it is not loaded. */
export function nativeSummary(): NativeSummary | undefined {
  const addon = loaded?.addon;
  if (!addon) return undefined;
  return { blasCore: addon.blasInfo().core, threads: addon.getThreads() };
}

/** Sets the native kernels' thread count (benchmarks match a peer's threads with it). */
export function setNativeThreads(n: number): void {
  const addon = loadNative().addon;
  if (!addon) throw new Error(`setNativeThreads: native kernels unavailable: ${loaded?.reason}`);
  addon.setThreads(n);
}
