/**
 * CARP training-step throughput (not tests): our `trainStep` on the
 * active tfjs backend vs the same step in PyTorch (bench/peers/carp_step.py, written from
 * §2–§5, §7: same network, crops, batch, loss, LARS, EMA), in one run, alternating.
 *
 * Both sides time the step on views made once before timing (the peer's are random tensors
 * of the crop sizes; ours come from one `multiCropViews` call): augmentation is measured
 * by its own scenario. The figure is distinct images per second = A·B / seconds of one
 * optimiser step (A micro-steps of B images). Each row runs both sides with the same
 * number of threads: the peer with `torch.set_num_threads(n)`, ours with n native-kernel
 * threads (ourThreads.ts; pure wasm, without the native kernels, is one thread in every row).
 * `profileTrainStep` (stepProfile.ts) splits one micro-step into its stages for docs/performance.md;
 * the peer process is `TorchPeer` (torchPeer.ts), our side `OurCarpStep` (ourCarpStep.ts).
 */
import { availableParallelism, loadavg } from 'node:os';
import { OurCarpStep, type TrainStepCase } from './ourCarpStep';
import { stepFlops } from './stepFlops';
import { profileTrainStep, type StepProfile } from './stepProfile';
import { fasterLayout, ourMaxRssMiB, type PeerLayout, TorchPeer, torchRow } from './torchPeer';
import { type BenchRow, speedRatio, threadWord } from './types';
import { ourBackend, ourThreadsNote, restoreOurThreads, useOurThreads } from './ourThreads';
import { tf } from '../backend/tf';
import { useNativeKernels } from '../backend/wasmKernels';

// Re-exported: the names this module has always offered (tests, featureBench, memoryBench, main).
export { DEFAULT_PYTHON, TorchPeer } from './torchPeer';
export { backboneFlops, stepFlops } from './stepFlops';
export { OurCarpStep, type TrainStepCase } from './ourCarpStep';
export { profileTrainStep, type StepProfile } from './stepProfile';

export interface TrainStepBenchOptions {
  /** Untimed optimiser steps per side first (default 1). */
  warmup?: number;
  /** Alternating rounds, one timed optimiser step per side each (default 3); the fastest is reported. */
  rounds?: number;
  /** Peer thread counts, one row each (default [1, 2]). */
  threads?: number[];
  noPeer?: boolean;
  python?: string;
  /** Also profile one warm micro-step of ours (`profileTrainStep`) after the timed steps. */
  profile?: boolean;
  /**
   * Also time one step on the pure-wasm kernels (native kernels switched off) in the same
   * process: one more row, ours (native, the last thread count) vs that baseline.
   */
  pureWasmBaseline?: boolean;
  /**
   * Run the peer in its faster memory format per thread count (one timed probe step in
   * NCHW and one in channels-last first; the faster one's stays among its timed steps,
   * beside one more timed step of ours); default NCHW only.
   */
  peerLayouts?: boolean;
}

// Re-exported from types.ts, where torchPeer.ts and ourThreads.ts take it too.
export { threadWord } from './types';
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

/** Times our step and the peer's at each thread count, alternating; one row per thread count. */
export async function benchTrainStep(
  c: TrainStepCase,
  o: TrainStepBenchOptions = {},
): Promise<{ rows: BenchRow[]; profile: StepProfile | null }> {
  const warmup = o.warmup ?? 1;
  const rounds = o.rounds ?? 3;
  const threads = o.threads ?? [1, 2];
  const load = loadavg()[0];
  const ours = new OurCarpStep(c);
  const why = o.noPeer
    ? 'peer skipped (noPeer)'
    : (ours.peerUnsupported() ?? TorchPeer.unavailable(o.python));
  const peer = why ? null : await TorchPeer.start(ours.peerSetup(8), o.python);
  try {
    const mine = new Map<number, number[]>(threads.map((n) => [n, []]));
    const ourThreads = new Map<number, number>();
    const theirs = new Map<number, number[]>(threads.map((n) => [n, []]));
    const phases = new Map<number, Record<string, number>>();
    const layouts = new Map<number, PeerLayout>();
    const layoutNotes = new Map<number, string>();
    let peerLoss = NaN;
    let ourLoss = NaN;
    let peerRss = NaN;
    const runPeer = async (n: number, steps: number, keep: boolean, layout?: PeerLayout) => {
      const l = layout ?? layouts.get(n);
      const r = await peer!.call({ cmd: 'train', threads: n, steps, ...(l ? { layout: l } : {}) });
      peerRss = r.maxRssMiB as number;
      if (!keep) return r.seconds as number[];
      theirs.get(n)!.push(...(r.seconds as number[]));
      const acc = phases.get(n) ?? {};
      for (const [k, v] of Object.entries(r.phases as Record<string, number>))
        acc[k] = (acc[k] ?? 0) + v;
      phases.set(n, acc);
      peerLoss = (r.loss as number | null) ?? NaN;
      return r.seconds as number[];
    };
    // Warm-up: micro-steps on our side (kernels, heap growth), whole steps on the peer's at
    // its first thread count (its pool of PEER_MAX_THREADS threads exists from the start).
    for (let i = 0; i < warmup; i++) await ours.microStep(true);
    if (peer && warmup > 0) await runPeer(threads[0], warmup, false);
    if (peer && o.peerLayouts) {
      for (const n of threads) {
        // Only the chosen layout's probe stays among the peer's timed steps; ours times one
        // more step beside it, so both sides keep the fastest of as many.
        ourThreads.set(n, useOurThreads(n));
        mine.get(n)!.push((await ours.step()).seconds);
        const probes = new Map<PeerLayout, number[]>();
        const pick = await fasterLayout(async (l) => {
          const secs = await runPeer(n, 1, false, l);
          probes.set(l, secs);
          return Math.min(...secs);
        });
        theirs.get(n)!.push(...probes.get(pick.layout)!);
        layouts.set(n, pick.layout);
        layoutNotes.set(n, pick.note);
      }
    }
    for (let r = 0; r < rounds; r++) {
      for (const n of threads) {
        ourThreads.set(n, useOurThreads(n));
        const s = await ours.step();
        mine.get(n)!.push(s.seconds);
        ourLoss = s.loss;
        if (peer) await runPeer(n, 1, true);
      }
    }
    restoreOurThreads();
    const flops = stepFlops(ours.spec, ours.cfg.crops, c.batch) * c.accumulation;
    const { crops, model } = ours.cfg;
    const common = [
      `ResNet-18 width ${model.width}${model.cifarStem ? ' CIFAR stem' : ''}, ${model.inChannels} ch; ` +
        `2×${crops.globalSize} + ${crops.numLocal}×${crops.localSize} px crops; K ${model.numPrototypes}, P ${model.partitionSize}; ` +
        `${ours.images} images per optimiser step = ${c.accumulation} micro-batch${c.accumulation === 1 ? '' : 'es'} of ${c.batch}`,
      'both sides time the step on views made before timing (augmentation: see the augment rows)',
      `fastest of ${rounds + (layoutNotes.size ? 1 : 0)} alternating timed steps per side after ${warmup} warm-up micro-step(s)${layoutNotes.size ? " (one of each side beside the peer's layout probe)" : ''}`,
      ...(c.note ? [c.note] : []),
    ];
    const heap = wasmHeapMiB();
    const memory =
      `memory peak: ours ${ourMaxRssMiB().toFixed(0)} MiB RSS` +
      (heap === null ? '' : ` (wasm heap ${heap.toFixed(0)} MiB, its high-water mark)`) +
      (peer ? `, peer ${peerRss.toFixed(0)} MiB RSS (each process's peak over the scenario)` : '');
    if (peer) common.push(peer.settingsNote());
    common.push(memory);
    const rows = threads.map((n): BenchRow => {
      const times = theirs.get(n)!;
      const peerBest = times.length ? Math.min(...times) : null;
      const best = Math.min(...mine.get(n)!);
      const notes = [
        ...common,
        `${ourThreadsNote(ourThreads.get(n)!)}; ${fmt(mine.get(n)!)} s per step; ≈${(flops / best / 1e9).toFixed(1)} GFLOP/s`,
      ];
      if (why) notes.push(why);
      if (peerBest !== null && n > 1) {
        notes.push(
          `a ${n}-thread peer needs ${n} idle cores: 1-min load average was ${load.toFixed(2)} at the start on ${availableParallelism()} cores; with other processes running, its threads wait on each other (compare the 1-thread row)`,
        );
      }
      if (layoutNotes.has(n)) notes.push(layoutNotes.get(n)!);
      if (peerBest !== null) {
        const ph = phases.get(n)!;
        const total = Object.values(ph).reduce((a, b) => a + b, 0);
        notes.push(
          `peer: ${threadWord(n)}; ${fmt(times)} s per step; ≈${(flops / peerBest / 1e9).toFixed(1)} GFLOP/s; shares ` +
            Object.entries(ph)
              .map(([k, v]) => `${k} ${((100 * v) / total).toFixed(0)}%`)
              .join(', '),
          `loss after the last step: ours ${ourLoss.toFixed(4)}, peer ${peerLoss.toFixed(4)}`,
        );
      }
      const peerFig = peerBest === null ? null : ours.images / peerBest;
      const oursFig = ours.images / best;
      const scenario = `${c.id}-t${n}`;
      return torchRow({ scenario, ours: oursFig, peer: peerFig, torch: peer, threads: n, notes });
    });
    const profile = o.profile ? await profileTrainStep(ours) : null;
    if (o.pureWasmBaseline && ourBackend() === 'wasm+native') {
      const n = threads[threads.length - 1];
      rows.push(await pureWasmRow(ours, Math.min(...mine.get(n)!), n));
    }
    return { rows, profile };
  } finally {
    restoreOurThreads(); // also when a step throws
    peer?.close();
    ours.dispose();
  }
}

/** The wasm heap's size in MiB (it only grows: its high-water mark), or null off wasm. */
export function wasmHeapMiB(): number | null {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return wasm?.HEAPU8 ? wasm.HEAPU8.byteLength / 2 ** 20 : null;
}

/** Our step on the pure-wasm kernels (one thread) as the baseline of the native one. */
async function pureWasmRow(ours: OurCarpStep, nativeBest: number, n: number): Promise<BenchRow> {
  useNativeKernels(false);
  try {
    await ours.microStep(true); // warm-up: XNNPACK operators, heap growth
    const { seconds } = await ours.step();
    const fig = ours.images / seconds;
    const oursFig = ours.images / nativeBest;
    return {
      scenario: `${ours.c.id}-native-vs-pure-wasm`,
      unit: 'images/s',
      higherIsBetter: true,
      ours: oursFig,
      peer: fig,
      peerName: 'carp-kit, pure-wasm kernels (1 thread; CARP_NATIVE=0)',
      speedRatio: speedRatio(oursFig, fig, true),
      backend: 'wasm+native',
      notes: [
        `ours: the native kernels at ${threadWord(n)} (the fastest step above); baseline: one step ` +
          `after one warm-up micro-step with the native kernels switched off, ${seconds.toFixed(2)} s`,
      ],
    };
  } finally {
    useNativeKernels(true);
  }
}
