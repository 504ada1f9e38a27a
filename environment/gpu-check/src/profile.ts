/**
 * Where a webgpu training step's time goes: one step under `tf.profile`, aggregated by
 * kernel name, plus the number of GPU dispatches (compute programs) and queue submits of
 * an unprofiled step.
 *
 * The webgpu backend times each kernel with GPU timestamp queries when the device has the
 * `timestamp-query` feature (src/backend/webgpu.ts requests it whenever the adapter offers
 * it); without it every kernel reads 0 ms, so `timestampQuery` says whether the ms are real.
 * Profiling closes a compute pass per program and reads the queries back, so the profiled
 * step is slower than a normal one: the shares, not the sum, are what it measures.
 */
import { tf } from '../../../src/backend/tf';

/** One kernel call as `tf.profile` reports it (`ms` null when no time was reported). */
export interface KernelRecord {
  name: string;
  ms: number | null;
}

export interface KernelTotal {
  name: string;
  calls: number;
  /** Summed GPU time of all calls, ms. */
  ms: number;
  /** `ms` over the summed time of every kernel of the step (0 when that sum is 0). */
  share: number;
}

export interface KernelAggregate {
  kernels: number;
  totalMs: number;
  /** The `top` kernels by summed time (by calls when no time was reported), largest first. */
  top: KernelTotal[];
  /** How many distinct kernel names there were. */
  distinct: number;
}

/** Sums `records` by kernel name; ties in time are broken by calls, then by name. */
export function aggregateKernels(records: readonly KernelRecord[], top: number): KernelAggregate {
  const byName = new Map<string, { calls: number; ms: number }>();
  let totalMs = 0;
  for (const r of records) {
    const ms = r.ms != null && Number.isFinite(r.ms) ? r.ms : 0;
    const e = byName.get(r.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += ms;
    byName.set(r.name, e);
    totalMs += ms;
  }
  const all = [...byName].map(([name, e]) => ({
    name,
    calls: e.calls,
    ms: e.ms,
    share: totalMs > 0 ? e.ms / totalMs : 0,
  }));
  all.sort((a, b) => b.ms - a.ms || b.calls - a.calls || (a.name < b.name ? -1 : 1));
  return { kernels: records.length, totalMs, top: all.slice(0, top), distinct: all.length };
}

/** The webgpu backend's internals this file counts through (tfjs-backend-webgpu 4.x). */
interface WebgpuInternals {
  supportTimestampQuery?: boolean;
  runWebGPUProgram: (...args: unknown[]) => unknown;
  submitQueue: (...args: unknown[]) => unknown;
}

/** Counts compute programs dispatched and queue submits while `fn` runs (webgpu backend). */
export async function countDispatches(
  fn: () => Promise<unknown>,
): Promise<{ dispatches: number; submits: number }> {
  const b = tf.backend() as unknown as WebgpuInternals;
  const run = b.runWebGPUProgram;
  const submit = b.submitQueue;
  let dispatches = 0;
  let submits = 0;
  b.runWebGPUProgram = function (this: unknown, ...args: unknown[]) {
    dispatches++;
    return run.apply(this, args);
  };
  b.submitQueue = function (this: unknown, ...args: unknown[]) {
    submits++;
    return submit.apply(this, args);
  };
  try {
    await fn();
  } finally {
    b.runWebGPUProgram = run;
    b.submitQueue = submit;
  }
  return { dispatches, submits };
}

/** Profiles one call of `step` (one training step) on the current backend. */
export async function profileStep(
  step: () => Promise<unknown>,
  top = 15,
): Promise<Record<string, unknown>> {
  const b = tf.backend() as unknown as WebgpuInternals;
  const counted = await countDispatches(step);
  const before = tf.memory();
  const s = performance.now();
  const info = await tf.profile(async () => void (await step()));
  const wallMs = performance.now() - s;
  const records = info.kernels.map((k) => ({
    name: k.name,
    ms: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : null,
  }));
  const agg = aggregateKernels(records, top);
  return {
    timestampQuery: b.supportTimestampQuery === true,
    dispatchesPerStep: counted.dispatches,
    submitsPerStep: counted.submits,
    profiledWallMs: wallMs,
    kernelsPerStep: agg.kernels,
    distinctKernels: agg.distinct,
    kernelMsTotal: agg.totalMs,
    top: agg.top,
    newBytes: info.newBytes,
    newTensors: info.newTensors,
    peakBytes: info.peakBytes,
    bytesBefore: before.numBytes,
    numBytesInGPU: (before as { numBytesInGPU?: number }).numBytesInGPU ?? null,
  };
}
