/**
 * CARP training-step throughput (issue: benchmarks; not tests): our `trainStep` on the
 * active tfjs backend vs the same step in PyTorch (bench/peers/carp_step.py, written from
 * spec §2–§5, §7: same network, crops, batch, loss, LARS, EMA), in one run, alternating.
 *
 * Both sides time the step on views made once before timing (the peer's are random tensors
 * of the crop sizes; ours come from one `multiCropViews` call): augmentation is measured
 * by its own scenario. The figure is distinct images per second = A·B / seconds of one
 * optimiser step (A micro-steps of B images). The wasm backend runs one thread, so "ours"
 * is one thread in every row; the peer runs with `torch.set_num_threads(n)` per row.
 * `profileTrainStep` (here too) splits one micro-step into its stages for docs/performance.md.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { tf } from '../backend/tf';
import { carpLoss } from '../carp/carpLoss';
import { partitionProbabilities, samplePartition } from '../carp/randomPartition';
import { updateTeacher } from '../carp/teacherEma';
import { CarpTrainState, trainStep, type StepHyperParameters } from '../carp/trainStep';
import { multiCropSettings, networkSpec, scaledLr } from '../config/derived';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import { multiCropViews } from '../data/multiCrop';
import { BatchNormUpdates } from '../models/layers';
import { multiCropForward, splitViews, type CarpNetworkSpec } from '../models/multiCrop';
import type { ResNetSpec } from '../models/resnet';
import { createRng } from '../random';
import { type BenchRow, speedRatio } from './types';

const PEER_SCRIPT = resolve(__dirname, '..', '..', 'bench', 'peers', 'carp_step.py');
export const DEFAULT_PYTHON = '/usr/bin/python3';
/** OpenMP pool of the peer; each command then sets `torch.set_num_threads(n ≤ this)`. */
const PEER_MAX_THREADS = 2;

type Reply = Record<string, unknown>;

/** The long-lived PyTorch peer process (one JSON command per line, one reply per line). */
export class TorchPeer {
  private readonly replies: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private stderr = '';
  private closed = false;
  /** `PyTorch x / torchvision y`, set by `start`. */
  versions = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (l) => this.deliver(l));
    child.stderr.on(
      'data',
      (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)),
    );
    child.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  /** Why the peer cannot run here (missing Python packages), or null when it can. */
  static unavailable(python = DEFAULT_PYTHON): string | null {
    const r = spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.error) return `peer skipped: ${python} not runnable (${r.error.message})`;
    if (r.status !== 0) {
      return `peer skipped: torch/torchvision not importable from ${python} (apt-get install python3-torch python3-torchvision)`;
    }
    return null;
  }

  /** Starts the peer and builds its network and views (`setup` fields: see carp_step.py). */
  static async start(setup: Record<string, number>, python = DEFAULT_PYTHON): Promise<TorchPeer> {
    const threads = String(PEER_MAX_THREADS);
    const child = spawn(python, [PEER_SCRIPT], {
      env: { ...process.env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
    });
    const peer = new TorchPeer(child);
    const r = await peer.call({ cmd: 'setup', ...setup });
    peer.versions = `PyTorch ${String(r.torch)} / torchvision ${String(r.torchvision)}`;
    return peer;
  }

  private deliver(line: string): void {
    const w = this.waiting.shift();
    if (w) w(line);
    else this.replies.push(line);
  }

  /** Sends one command and waits for its reply; throws on a peer error or exit. */
  async call(cmd: Record<string, unknown>): Promise<Reply> {
    if (this.closed) throw new Error(`torch peer exited: ${this.stderr.trim().split('\n').pop()}`);
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const line =
      this.replies.shift() ?? (await new Promise<string | null>((r) => this.waiting.push(r)));
    if (line === null)
      throw new Error(`torch peer exited: ${this.stderr.trim().split('\n').pop()}`);
    const reply = JSON.parse(line) as Reply;
    if (typeof reply.error === 'string') throw new Error(`torch peer: ${reply.error}`);
    return reply;
  }

  close(): void {
    if (!this.closed) this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}

/** Forward multiply-add FLOPs (×2) of the backbone for one `size`×`size` image (convs only). */
export function backboneFlops(spec: ResNetSpec, size: number): number {
  const exp = spec.block === 'bottleneck' ? 4 : 1;
  const conv = (k: number, cin: number, cout: number, out: number) =>
    2 * k * k * cin * cout * out * out;
  let s = spec.cifarStem ? size : Math.ceil(size / 2);
  let flops = conv(spec.cifarStem ? 3 : 7, spec.inChannels, spec.width, s);
  if (!spec.cifarStem) s = Math.ceil(s / 2);
  let inC = spec.width;
  spec.layers.forEach((count, stage) => {
    const planes = spec.width * 2 ** stage;
    for (let j = 0; j < count; j++) {
      const stride = stage > 0 && j === 0 ? 2 : 1;
      const out = stride === 2 ? Math.ceil(s / 2) : s;
      if (spec.block === 'basic') {
        flops += conv(3, inC, planes, out) + conv(3, planes, planes, out);
      } else {
        flops += conv(1, inC, planes, s) + conv(3, planes, planes, out);
        flops += conv(1, planes, planes * exp, out);
      }
      if (stride !== 1 || inC !== planes * exp) flops += conv(1, inC, planes * exp, out);
      inC = planes * exp;
      s = out;
    }
  });
  return flops;
}

/** ≈ FLOPs of one micro-step: student forward + backward (3× forward) on all views, teacher forward on the globals. */
export function stepFlops(spec: CarpNetworkSpec, cfg: CarpConfig['crops'], batch: number): number {
  const h = spec.head;
  const headRow =
    2 * (h.inDim * h.hiddenDim + h.hiddenDim * h.hiddenDim + h.hiddenDim * h.bottleneckDim) +
    2 * h.bottleneckDim * h.numPrototypes;
  const globals = 2 * batch * (backboneFlops(spec.backbone, cfg.globalSize) + headRow);
  const locals = cfg.numLocal * batch * (backboneFlops(spec.backbone, cfg.localSize) + headRow);
  return 3 * (globals + locals) + globals;
}

/** One train-step scenario: a preset, overrides, micro-batch B and accumulation A. */
export interface TrainStepCase {
  id: string;
  preset: string;
  overrides: string[];
  batch: number;
  accumulation: number;
  note?: string;
}

/** Our side of a scenario: state, pre-made views, and a timed optimiser step. */
export class OurCarpStep {
  readonly cfg: CarpConfig;
  readonly spec: CarpNetworkSpec;
  readonly state: CarpTrainState;
  readonly views: tf.Tensor4D[];
  readonly hp: Omit<StepHyperParameters, 'step' | 'optimizerStep'>;
  private t = 0;

  constructor(
    readonly c: TrainStepCase,
    seed = 0,
  ) {
    this.cfg = resolveConfig(c.preset, [...c.overrides, `train.batchSize=${c.batch}`]);
    this.spec = networkSpec(this.cfg.model);
    const rng = createRng(seed);
    this.state = CarpTrainState.create({
      spec: this.spec,
      partitionSize: this.cfg.model.partitionSize,
      rng,
      momentum: this.cfg.optim.momentum,
      eta: this.cfg.optim.eta,
    });
    const s = this.cfg.crops.globalSize;
    const ch = this.cfg.model.inChannels;
    const data = new Uint8Array(c.batch * s * s * ch);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
    this.views = multiCropViews(
      { data, shape: [c.batch, s, s, ch] },
      multiCropSettings(this.cfg.crops),
      rng,
    );
    this.hp = {
      learningRate: scaledLr(this.cfg.optim, { batchSize: c.batch, accumulation: c.accumulation }),
      weightDecay: this.cfg.optim.weightDecay,
      teacherMomentum: this.cfg.teacher.momentumStart,
      accumulation: c.accumulation,
    };
  }

  /** The peer's `setup` command for the same network, crops and hyper-parameters. */
  peerSetup(featureBatch: number): Record<string, number> {
    const { model, crops } = this.cfg;
    return {
      width: model.width,
      cifarStem: model.cifarStem ? 1 : 0,
      inChannels: model.inChannels,
      hiddenDim: model.hiddenDim,
      bottleneckDim: model.bottleneckDim,
      numPrototypes: model.numPrototypes,
      partitionSize: model.partitionSize,
      batch: this.c.batch,
      globalSize: crops.globalSize,
      localSize: crops.localSize,
      numLocal: crops.numLocal,
      featureBatch,
      featureSize: crops.globalSize,
      seed: 0,
      ...this.hp,
    };
  }

  /** Why the peer cannot build this network (it implements ResNet-18 + the paper's head), or null. */
  peerUnsupported(): string | null {
    const m = this.cfg.model;
    return m.arch === 'resnet18' && m.headLayers === 3 && m.headBatchNorm
      ? null
      : 'peer skipped: carp_step.py builds ResNet-18 with the 3-layer BN head only';
  }

  /** One `trainStep` on `views` (default: the pre-made ones); returns the loss L. */
  async microStep(
    optimizerStep: boolean,
    views: readonly tf.Tensor4D[] = this.views,
  ): Promise<number> {
    const r = await trainStep(this.state, views, { ...this.hp, step: this.t++, optimizerStep });
    return r.loss;
  }

  /** Runs one optimiser step (A micro-steps on the pre-made views); returns its seconds and loss. */
  async step(): Promise<{ seconds: number; loss: number }> {
    const t0 = performance.now();
    let loss = NaN;
    for (let i = 0; i < this.c.accumulation; i++) {
      loss = await this.microStep(i === this.c.accumulation - 1);
    }
    return { seconds: (performance.now() - t0) / 1000, loss };
  }

  /** Images per optimiser step (distinct images, not views). */
  get images(): number {
    return this.c.batch * this.c.accumulation;
  }

  dispose(): void {
    tf.dispose(this.views);
    this.state.dispose();
  }
}

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
}

export const threadWord = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;
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
    const mine: number[] = [];
    const theirs = new Map<number, number[]>(threads.map((n) => [n, []]));
    const phases = new Map<number, Record<string, number>>();
    let peerLoss = NaN;
    let ourLoss = NaN;
    const runPeer = async (n: number, steps: number, keep: boolean) => {
      const r = await peer!.call({ cmd: 'train', threads: n, steps });
      if (!keep) return;
      theirs.get(n)!.push(...(r.seconds as number[]));
      const acc = phases.get(n) ?? {};
      for (const [k, v] of Object.entries(r.phases as Record<string, number>))
        acc[k] = (acc[k] ?? 0) + v;
      phases.set(n, acc);
      peerLoss = (r.loss as number | null) ?? NaN;
    };
    // Warm-up: micro-steps on our side (kernels, heap growth), whole steps on the peer's at
    // its first thread count (its pool of PEER_MAX_THREADS threads exists from the start).
    for (let i = 0; i < warmup; i++) await ours.microStep(true);
    if (peer && warmup > 0) await runPeer(threads[0], warmup, false);
    for (let r = 0; r < rounds; r++) {
      const s = await ours.step();
      mine.push(s.seconds);
      ourLoss = s.loss;
      if (peer) for (const n of threads) await runPeer(n, 1, true);
    }
    const flops = stepFlops(ours.spec, ours.cfg.crops, c.batch) * c.accumulation;
    const best = Math.min(...mine);
    const { crops, model } = ours.cfg;
    const common = [
      `ResNet-18 width ${model.width}${model.cifarStem ? ' CIFAR stem' : ''}, ${model.inChannels} ch; ` +
        `2×${crops.globalSize} + ${crops.numLocal}×${crops.localSize} px crops; K ${model.numPrototypes}, P ${model.partitionSize}; ` +
        `${ours.images} images per optimiser step = ${c.accumulation} micro-batch${c.accumulation === 1 ? '' : 'es'} of ${c.batch}`,
      'both sides time the step on views made before timing (augmentation: see the augment rows)',
      `ours: 1 thread (tfjs ${tf.getBackend()}); ${fmt(mine)} s per step; ≈${(flops / best / 1e9).toFixed(1)} GFLOP/s`,
      `fastest of ${rounds} alternating timed steps per side after ${warmup} warm-up micro-step(s)`,
      ...(c.note ? [c.note] : []),
    ];
    const rows = threads.map((n): BenchRow => {
      const times = theirs.get(n)!;
      const peerBest = times.length ? Math.min(...times) : null;
      const notes = [...common];
      if (why) notes.push(why);
      if (peerBest !== null && n > 1) {
        notes.push(
          `a ${n}-thread peer needs ${n} idle cores: 1-min load average was ${load.toFixed(2)} at the start on ${availableParallelism()} cores; with other processes running, its threads wait on each other (compare the 1-thread row)`,
        );
      }
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
      return {
        scenario: `${c.id}-t${n}`,
        unit: 'images/s',
        higherIsBetter: true,
        ours: oursFig,
        peer: peerFig,
        peerName: peer ? `${peer.versions} (Debian), ${threadWord(n)}` : 'PyTorch (absent)',
        speedRatio: speedRatio(oursFig, peerFig, true),
        backend: tf.getBackend(),
        notes,
      };
    });
    return { rows, profile: o.profile ? await profileTrainStep(ours) : null };
  } finally {
    peer?.close();
    ours.dispose();
  }
}

/** Seconds per stage of one profiled micro-step, and their shares of the step. */
export interface StepProfile {
  scenario: string;
  /** Images in the micro-batch. */
  batch: number;
  backend: string;
  /** Stage → seconds (`studentBackward` = forward+loss+backward − forward − loss, measured apart). */
  seconds: Record<string, number>;
  /** Stage → fraction of `total`. */
  shares: Record<string, number>;
  /** Seconds of the profiled micro-step (augmentation included). */
  total: number;
}

/**
 * Splits one optimiser micro-step (A = 1) of `ours` into the stages of `trainStep`, with
 * timers around each (the wasm and cpu backends run ops synchronously; a read at each
 * stage end also covers asynchronous backends): augmentation of a fresh raw batch,
 * teacher forward + partition, student forward + loss + backward (`variableGrads`), EMA,
 * LARS, BN running statistics. The student forward alone (no tape) and the loss alone
 * (forward + backward on fixed logits) are timed apart to split the middle stage.
 */
export async function profileTrainStep(ours: OurCarpStep, seed = 1): Promise<StepProfile> {
  const { spec, state, cfg } = ours;
  const { student, teacher, optimizer, partitionSize: P } = state;
  const b = ours.c.batch;
  const rng = createRng(seed);
  const s = cfg.crops.globalSize;
  const ch = cfg.model.inChannels;
  const data = new Uint8Array(b * s * s * ch);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const sec: Record<string, number> = {};
  const timed = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await f();
    sec[name] = (sec[name] ?? 0) + (performance.now() - t0) / 1000;
    return out;
  };
  const views = await timed('augmentation', () =>
    multiCropViews({ data, shape: [b, s, s, ch] }, multiCropSettings(cfg.crops), rng),
  );
  const teacherBn = new BatchNormUpdates();
  const studentBn = new BatchNormUpdates();
  const pi = samplePartition(spec.head.numPrototypes, P, rng);
  try {
    const teacherProbs = await timed('teacherForward', async () => {
      const logits = multiCropForward(teacher, spec, views.slice(0, 2), {
        training: true,
        bnUpdates: teacherBn,
      });
      const probs = tf.tidy(() =>
        splitViews(logits, 2).map((l) => partitionProbabilities(l, pi, P)),
      );
      logits.dispose();
      await probs[0].data();
      return probs;
    });
    const grads = await timed('studentForwardLossBackward', async () => {
      const r = tf.variableGrads(() => {
        const logits = multiCropForward(student, spec, views, {
          training: true,
          bnUpdates: studentBn,
        });
        const probs = splitViews(logits, views.length).map((l) => partitionProbabilities(l, pi, P));
        return carpLoss(probs, teacherProbs).total;
      }, student.trainableVariables());
      await r.value.data();
      r.value.dispose();
      return r.grads;
    });
    await timed('ema', () => updateTeacher(teacher, student, ours.hp.teacherMomentum));
    await timed('lars', () => {
      optimizer.setLearningRate(ours.hp.learningRate);
      optimizer.setWeightDecay(ours.hp.weightDecay);
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
    });
    await timed('bnStats', () => {
      teacherBn.apply();
      studentBn.apply();
    });
    // Apart from the step: the student forward alone, and the loss alone on fixed logits.
    const logits = await timed('studentForward', async () => {
      const l = multiCropForward(student, spec, views, { training: true });
      await l.data();
      return l;
    });
    await timed('loss', async () => {
      const g = tf.grad((x: tf.Tensor) => {
        const probs = splitViews(x as tf.Tensor2D, views.length).map((l) =>
          partitionProbabilities(l, pi, P),
        );
        return carpLoss(probs, teacherProbs).total;
      })(logits);
      await g.data();
      g.dispose();
    });
    logits.dispose();
    tf.dispose(teacherProbs);
  } finally {
    teacherBn.dispose();
    studentBn.dispose();
    tf.dispose(views);
  }
  const fwdLossBwd = sec.studentForwardLossBackward;
  const stages: Record<string, number> = {
    augmentation: sec.augmentation,
    teacherForward: sec.teacherForward,
    studentForward: sec.studentForward,
    studentBackward: Math.max(0, fwdLossBwd - sec.studentForward - sec.loss),
    loss: sec.loss,
    ema: sec.ema,
    lars: sec.lars,
    bnStats: sec.bnStats,
  };
  const total =
    sec.augmentation + sec.teacherForward + fwdLossBwd + sec.ema + sec.lars + sec.bnStats;
  const shares = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, v / total]));
  return {
    scenario: ours.c.id,
    batch: b,
    backend: tf.getBackend(),
    seconds: stages,
    shares,
    total,
  };
}
