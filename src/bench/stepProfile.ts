/**
 * Stage profile of one CARP training micro-step (the stage shares of
 * docs/performance.md): `trainStep`'s stages (§2–§5, §7) re-run one by one with a
 * timer around each, on the state of an `OurCarpStep`.
 */
import { tf } from '../backend/tf';
import { carpLossFromLogits } from '../carp/fusedCarpLoss';
import { partitionProbabilities, samplePartition } from '../carp/randomPartition';
import { updateTeacher } from '../carp/teacherEma';
import { multiCropSettings } from '../config/derived';
import { multiCropViews } from '../data/multiCropViews';
import { BatchNormUpdates } from '../models/layers';
import { multiCropForward, splitViews } from '../models/carpNetwork';
import { createRng } from '../random';
import type { OurCarpStep } from './ourCarpStep';

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
  /** Our threads during the profile, when set apart from the process default. */
  threads?: number;
  /** Per-kernel split of one more micro-step (`profileKernels`), when asked for. */
  kernels?: KernelProfile;
}

/** Where one micro-step's time goes, kernel by kernel (`tf.profile`). */
export interface KernelProfile {
  /** Wall seconds of the profiled micro-step. */
  seconds: number;
  /** Kernel name → seconds summed over its calls, calls and share of `seconds`; largest first. */
  kernels: { name: string; seconds: number; calls: number; share: number }[];
  /** The step's time outside every kernel (JS, tape, bookkeeping), seconds. */
  outsideKernels: number;
  /** Peak bytes of live tfjs tensors during the step (`tf.profile`'s peakBytes). */
  peakTensorBytes: number;
}

/**
 * One warm optimiser micro-step of `ours` under `tf.profile`: seconds per kernel (the
 * wasm backend runs kernels synchronously, so a kernel's time is its wall time), summed
 * over calls, and the step's tensor-memory peak.
 */
export async function profileKernels(ours: OurCarpStep): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await ours.microStep(true);
    return [];
  });
  const seconds = (performance.now() - t0) / 1000;
  const by = new Map<string, { seconds: number; calls: number }>();
  for (const k of info.kernels) {
    // A `tf.customGrad` forward shows as one 'unnamed scope' whose time includes the
    // kernels it runs, which are listed too: counting it would count them twice.
    if (k.name === 'unnamed scope') continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) ?? { seconds: 0, calls: 0 };
    e.seconds += ms / 1000;
    e.calls += 1;
    by.set(k.name, e);
  }
  const kernels = [...by.entries()]
    .map(([name, e]) => ({ name, ...e, share: e.seconds / seconds }))
    .sort((a, b) => b.seconds - a.seconds);
  const inKernels = kernels.reduce((a, k) => a + k.seconds, 0);
  return {
    seconds,
    kernels,
    outsideKernels: Math.max(0, seconds - inKernels),
    peakTensorBytes: info.peakBytes,
  };
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
        return carpLossFromLogits(logits, teacherProbs, pi, P, views.length).total;
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
      const g = tf.grad(
        (x: tf.Tensor) =>
          carpLossFromLogits(x as tf.Tensor2D, teacherProbs, pi, P, views.length).total,
      )(logits);
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
