/**
 * The kit's native kernels (native/carp_native.cc): convolution forward and
 * gradients on oneDNN's direct NHWC kernels, matMul on its SGEMM, training-mode batch
 * norm and the max-pool gradient, computed in place on the tensors of the wasm backend's
 * heap. They lift the CPU path above the one-thread, 128-bit-SIMD ceiling of tfjs-wasm
 * (docs/performance.md).
 *
 * The addon is compiled by `npm ci` (native/build.mjs, against Debian's libdnnl-dev)
 * into `build/native/carp_native.node`. It is optional: where it is missing or
 * `CARP_NATIVE=0`, the wasm backend runs our pure-wasm kernels as before, and the reason
 * is part of the backend log line.
 *
 * Threads: `CARP_THREADS` (default: every core `os.availableParallelism()` reports) sizes
 * the one OpenMP pool that oneDNN and our own loops share; it is set for the duration of
 * each native kernel and restored after, so faiss's OpenMP loops keep their own count.
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
  batchNormInference(
    heap: Uint8Array,
    x: number,
    scale: number,
    shift: number,
    residual: number,
    y: number,
    rows: number,
    channels: number,
    relu: number,
    hasResidual: number,
  ): void;
  /** The random partition's permutation (backend/kernels/blockPermute.ts); toBlocks 1 or 0. */
  blockPermute(
    heap: Uint8Array,
    src: number,
    dst: number,
    partition: Int32Array,
    numBlocks: number,
    batch: number,
    k: number,
    p: number,
    toBlocks: number,
  ): void;
  /**
   * The fused CARP loss (src/backend/native/carpLossKernel.ts): softmax per block, L_cons,
   * L_reg and ∂L/∂logits in one call; λ = `lambda`.
   */
  carpLoss(
    heap: Uint8Array,
    logits: number,
    q0: number,
    q1: number,
    partition: Int32Array,
    views: number,
    batch: number,
    k: number,
    p: number,
    lambda: number,
    terms: number,
    grad: number,
    student0: number,
  ): void;
  /** GELU and its gradient over n floats (src/backend/native/geluKernels.ts). */
  gelu(heap: Uint8Array, x: number, y: number, n: number): void;
  geluGrad(heap: Uint8Array, dy: number, x: number, dx: number, n: number): void;
  /** One LARS update and one EMA update (src/backend/native/optimizerKernels.ts). */
  larsStep(
    heap: Uint8Array,
    param: number,
    grad: number,
    velocity: number,
    paramOut: number,
    velocityOut: number,
    n: number,
    learningRate: number,
    decay: number,
    momentum: number,
    eta: number,
    trust: number,
  ): void;
  emaStep(
    heap: Uint8Array,
    teacher: number,
    student: number,
    out: number,
    n: number,
    momentum: number,
    oneMinusMomentum: number,
  ): void;
  /**
   * Evaluation-mode conv → batch norm (→ + residual) (→ ReLU) folded into one primitive
   * (src/backend/native/convBnKernel.ts); false, with nothing written, where oneDNN's
   * padding rule does not take the geometry.
   */
  convBnInference(
    heap: Uint8Array,
    x: number,
    filter: number,
    scale: number,
    shift: number,
    residual: number,
    y: number,
    ...geometryReluResidual: number[]
  ): boolean;
  setThreads(n: number): void;
  getThreads(): number;
  /** `library`: e.g. `oneDNN 2.6.3`; `isa`: the instruction set it runs, e.g. `avx512_core`. */
  engineInfo(): { library: string; isa: string };
}

/** What the log line and benchmark reports say about the native kernels. */
export interface NativeSummary {
  /** The library under the kernels and its version, e.g. `oneDNN 2.6.3`. */
  library: string;
  /** The instruction set its kernels dispatch to on this CPU, e.g. `avx512_core`. */
  isa: string;
  /**
   * The same as {@link NativeSummary.isa}: the name the benchmark reports read (they
   * predate oneDNN, when this was OpenBLAS's kernel family).
   */
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
  const { library, isa } = addon.engineInfo();
  return { library, isa, blasCore: isa, threads: addon.getThreads() };
}

/** Sets the native kernels' thread count (benchmarks match a peer's threads with it). */
export function setNativeThreads(n: number): void {
  const addon = loadNative().addon;
  if (!addon) throw new Error(`setNativeThreads: native kernels unavailable: ${loaded?.reason}`);
  addon.setThreads(n);
}
