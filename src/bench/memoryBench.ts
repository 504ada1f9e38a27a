/**
 * Memory flatness over training (not a test): `steps` full CARP
 * micro-steps of the `fmnist-tiny` network (fresh random batch → multi-crop augmentation →
 * `trainStep`, with the preset's accumulation), comparing live tfjs tensors/bytes and the
 * process RSS (after a full GC) at step `early` and at the end. A leak of one tensor per
 * step shows as +`steps − early` tensors; RSS must not grow beyond allocator noise
 * (the wasm heap only grows, so it reaches its high-water mark in the first steps).
 * Run it in a process of its own (`runBench` does) so earlier scenarios do not blur RSS.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tf } from '../backend/tf';
import { isOptimizerStep } from '../carp/trainStep';
import { multiCropSettings } from '../config/derived';
import { multiCropViews } from '../data/multiCropViews';
import { createRng } from '../random';
import { OurCarpStep } from './ourCarpStep';
import type { BenchRow } from './types';

export interface MemoryBenchOptions {
  /** Micro-steps in total (default 200). */
  steps?: number;
  /** The early snapshot's step (default 10). */
  early?: number;
  /** RSS growth still called flat, MiB (default 32: allocator and JIT noise). */
  rssToleranceMiB?: number;
}

interface Snapshot {
  step: number;
  tensors: number;
  bytes: number;
  rssMiB: number;
  jsHeapMiB: number;
  wasmHeapMiB: number | null;
}

const MiB = 2 ** 20;

/** A full GC where V8 allows it (flag set at run time; harmless without). */
function collectGarbage(): void {
  try {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // no GC hook: RSS is then read as is
  }
}

function snapshot(step: number): Snapshot {
  collectGarbage();
  const m = tf.memory();
  const usage = process.memoryUsage();
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return {
    step,
    tensors: m.numTensors,
    bytes: m.numBytes,
    rssMiB: usage.rss / MiB,
    jsHeapMiB: usage.heapUsed / MiB,
    wasmHeapMiB: wasm?.HEAPU8 ? wasm.HEAPU8.byteLength / MiB : null,
  };
}

/** Runs the training steps and returns the tensor-count and RSS rows. */
export async function benchMemory(o: MemoryBenchOptions = {}): Promise<BenchRow[]> {
  const steps = o.steps ?? 200;
  const early = o.early ?? 10;
  const tolerance = o.rssToleranceMiB ?? 32;
  const A = 2; // fmnist-tiny's accumulation: the accumulation path is exercised too
  // Three distinct snapshots: a midpoint on a boundary needs steps − early ≥ 2A.
  if (!(early >= 1 && steps - early >= 2 * A) || early % A !== 0 || steps % A !== 0) {
    throw new Error(
      `benchMemory: need 1 ≤ early and early + ${2 * A} ≤ steps, both multiples of ${A}`,
    );
  }
  const ours = new OurCarpStep({
    id: 'memory-fmnist-tiny',
    preset: 'fmnist-tiny',
    overrides: [],
    batch: 32,
    accumulation: A,
  });
  const { cfg } = ours;
  const rng = createRng(5);
  const [s, ch, b] = [cfg.crops.globalSize, cfg.model.inChannels, ours.c.batch];
  const data = new Uint8Array(b * s * s * ch);
  const snaps: Snapshot[] = [];
  // A midpoint too (a leak grows steadily, allocator warm-up does not), on an accumulation
  // boundary like `early` and `steps`, so no summed gradients are alive at any snapshot.
  const mid = early + A * Math.round((steps - early) / (2 * A));
  const t0 = performance.now();
  try {
    for (let t = 1; t <= steps; t++) {
      for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
      const views = multiCropViews(
        { data, shape: [b, s, s, ch] },
        multiCropSettings(cfg.crops),
        rng,
      );
      try {
        await ours.microStep(isOptimizerStep(t - 1, A, steps), views);
      } finally {
        tf.dispose(views);
      }
      if (t === early || t === mid || t === steps) snaps.push(snapshot(t));
    }
  } finally {
    ours.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const [a, m, z] = snaps;
  const dTensors = z.tensors - a.tensors;
  const dRss = z.rssMiB - a.rssMiB;
  const setting = `fmnist-tiny network, batch ${b}, accumulation ${A}, 2×${s} + ${cfg.crops.numLocal}×${cfg.crops.localSize} crops, augmentation every step; ${steps} micro-steps in ${seconds.toFixed(1)} s`;
  const row = (scenario: string, unit: string, value: number, notes: string[]): BenchRow => ({
    scenario,
    unit,
    higherIsBetter: false,
    ours: value,
    peer: null,
    peerName: 'none (flatness check)',
    speedRatio: null,
    backend: tf.getBackend(),
    notes: [setting, ...notes],
  });
  return [
    row(
      `memory-fmnist-tiny-tensors-${early}-vs-${steps}`,
      `Δ live tensors (step ${steps} − ${early})`,
      dTensors,
      [
        `tensors at steps ${early}/${mid}/${steps}: ${a.tensors} → ${m.tensors} → ${z.tensors}; bytes ${a.bytes} → ${m.bytes} → ${z.bytes}`,
        dTensors === 0 && z.bytes === a.bytes ? 'flat: yes' : 'flat: NO (tensor leak)',
      ],
    ),
    row(
      `memory-fmnist-tiny-rss-${early}-vs-${steps}`,
      `Δ RSS MiB (step ${steps} − ${early})`,
      dRss,
      [
        `at steps ${early}/${mid}/${steps}: RSS ${[a, m, z].map((x) => x.rssMiB.toFixed(1)).join(' → ')} MiB; ` +
          `JS heap ${[a, m, z].map((x) => x.jsHeapMiB.toFixed(1)).join(' → ')} MiB` +
          (a.wasmHeapMiB !== null
            ? `; wasm heap ${[a, m, z].map((x) => (x.wasmHeapMiB ?? NaN).toFixed(1)).join(' → ')} MiB`
            : ''),
        dRss <= tolerance
          ? `flat: yes (≤ ${tolerance} MiB)`
          : `flat: NO (grew more than ${tolerance} MiB)`,
      ],
    ),
  ];
}
