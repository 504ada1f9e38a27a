/**
 * Feature-extraction throughput (not tests): the teacher backbone in
 * evaluation mode (running BN statistics, no tape) — what every evaluation protocol runs
 * (§9.0) — on the active tfjs backend vs PyTorch (`torch.no_grad()`, `eval()`,
 * bench/peers/carp_step.py) on the same network and input size, alternating batches.
 * One row per thread count, both sides with that many threads (ours through the native
 * kernels, ourThreads.ts; pure wasm is one thread in every row).
 */
import { tf } from '../backend/tf';
import { backboneFeatures } from '../models/carpNetwork';
import { createRng } from '../random';
import { OurCarpStep, type TrainStepCase } from './ourCarpStep';
import { fasterLayout, ourMaxRssMiB, type PeerLayout, TorchPeer, torchRow } from './torchPeer';
import { wasmHeapMiB } from './trainStepBench';
import { type BenchRow, threadWord } from './types';
import { ourThreadsNote, restoreOurThreads, useOurThreads } from './ourThreads';

export interface FeatureBenchOptions {
  /** Images per batch (default 256). */
  batch?: number;
  /** Untimed batches per side first (default 1). */
  warmup?: number;
  /** Alternating rounds, one timed batch per side each (default 3); the fastest is reported. */
  rounds?: number;
  /**
   * More rounds, up to `MAX_FEATURE_ROUNDS`, until each side has been timed for this many
   * seconds at each thread count (default 0: `rounds` only). Batches of 20–50 ms vary by
   * ±50 % on a shared machine; three samples let one lucky batch decide a row.
   */
  minSeconds?: number;
  /** Peer thread counts, one row each (default [1, 2]). */
  threads?: number[];
  noPeer?: boolean;
  python?: string;
  /** Run the peer in its faster memory format per thread count (as `benchTrainStep`). */
  peerLayouts?: boolean;
}

/** The most alternating rounds `minSeconds` adds. */
export const MAX_FEATURE_ROUNDS = 30;

/** Images/s of eval-mode backbone features, ours vs the peer at each thread count. */
export async function benchFeatures(
  c: TrainStepCase,
  o: FeatureBenchOptions = {},
): Promise<BenchRow[]> {
  const batch = o.batch ?? 256;
  const warmup = o.warmup ?? 1;
  const rounds = o.rounds ?? 3;
  const threads = o.threads ?? [1, 2];
  // The network of the train-step case (its small training batch is not used here).
  const net = new OurCarpStep({ ...c, batch: 4, accumulation: 1 });
  const s = net.cfg.crops.globalSize;
  const ch = net.cfg.model.inChannels;
  const rng = createRng(3);
  const x = tf.randomNormal([batch, s, s, ch], 0, 1, 'float32', rng.seed32()) as tf.Tensor4D;
  const why = o.noPeer
    ? 'peer skipped (noPeer)'
    : (net.peerUnsupported() ?? TorchPeer.unavailable(o.python));
  const peer = why ? null : await TorchPeer.start(net.peerSetup(batch), o.python);
  try {
    const ours = async (): Promise<number> => {
      const t0 = performance.now();
      const f = backboneFeatures(net.state.teacher, net.spec, x, { training: false, folded: true });
      await f.data();
      f.dispose();
      return (performance.now() - t0) / 1000;
    };
    const layouts = new Map<number, PeerLayout>();
    const layoutNotes = new Map<number, string>();
    let peerRss = NaN;
    const theirs = async (n: number, batches: number, layout?: PeerLayout): Promise<number[]> => {
      const l = layout ?? layouts.get(n);
      const r = await peer!.call({
        cmd: 'features',
        threads: n,
        batches,
        ...(l ? { layout: l } : {}),
      });
      peerRss = r.maxRssMiB as number;
      return r.seconds as number[];
    };
    for (let i = 0; i < warmup; i++) await ours();
    if (peer && warmup > 0) await theirs(threads[0], warmup);
    const mine = new Map<number, number[]>(threads.map((n) => [n, []]));
    const ourThreads = new Map<number, number>();
    const peerTimes = new Map<number, number[]>(threads.map((n) => [n, []]));
    if (peer && o.peerLayouts) {
      for (const n of threads) {
        // One warm-up batch per layout, then one timed probe each; the chosen one's is kept.
        const probes = new Map<PeerLayout, number[]>();
        const pick = await fasterLayout(async (l) => {
          await theirs(n, 1, l);
          const secs = await theirs(n, 1, l);
          probes.set(l, secs);
          return Math.min(...secs);
        });
        peerTimes.get(n)!.push(...probes.get(pick.layout)!);
        // One more batch of ours beside the kept probe: the fastest of as many per side.
        ourThreads.set(n, useOurThreads(n));
        mine.get(n)!.push(await ours());
        layouts.set(n, pick.layout);
        layoutNotes.set(n, pick.note);
      }
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const enough = (n: number) =>
      sum(mine.get(n)!) >= (o.minSeconds ?? 0) &&
      (!peer || sum(peerTimes.get(n)!) >= (o.minSeconds ?? 0));
    for (let r = 0; r < rounds || (r < MAX_FEATURE_ROUNDS && !threads.every(enough)); r++) {
      for (const n of threads) {
        if (r >= rounds && enough(n)) continue;
        ourThreads.set(n, useOurThreads(n));
        mine.get(n)!.push(await ours());
        if (peer) peerTimes.get(n)!.push(...(await theirs(n, 1)));
      }
    }
    const { model } = net.cfg;
    const heap = wasmHeapMiB();
    const memory =
      `memory peak: ours ${ourMaxRssMiB().toFixed(0)} MiB RSS` +
      (heap === null ? '' : ` (wasm heap ${heap.toFixed(0)} MiB)`) +
      (peer ? `, peer ${peerRss.toFixed(0)} MiB RSS (each process's peak)` : '');
    return threads.map((n) => {
      const times = peerTimes.get(n)!;
      const peerFig = times.length ? batch / Math.min(...times) : null;
      const oursFig = batch / Math.min(...mine.get(n)!);
      const notes = [
        `teacher backbone, eval mode: ResNet-18 width ${model.width}${model.cifarStem ? ' CIFAR stem' : ''}, ` +
          `batches of ${batch} × ${s}×${s}×${ch}`,
        `${ourThreadsNote(ourThreads.get(n)!)}; ${mine
          .get(n)!
          .map((t) => t.toFixed(2))
          .join(', ')} s per batch`,
        `fastest of ${mine.get(n)!.length} alternating batches per side after ${warmup} warm-up${layoutNotes.size ? " (one of each side beside the peer's layout probe)" : ''}`,
        memory,
      ];
      if (why) notes.push(why);
      else
        notes.push(
          `peer: ${threadWord(n)}; ${times.map((t) => t.toFixed(2)).join(', ')} s per batch`,
          peer!.settingsNote(),
        );
      if (layoutNotes.has(n)) notes.push(layoutNotes.get(n)!);
      const scenario = `${c.id.replace(/^train-step/, 'features')}-t${n}`;
      return torchRow({ scenario, ours: oursFig, peer: peerFig, torch: peer, threads: n, notes });
    });
  } finally {
    restoreOurThreads();
    peer?.close();
    x.dispose();
    net.dispose();
  }
}
