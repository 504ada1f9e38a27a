/**
 * One CARP micro-step, in the reference's order (§7; architecture §6.6):
 *
 *   forward (teacher on the 2 global views, student on all V) → random partition →
 *   loss (L_cons + λ·L_reg)/A → [optimiser steps: teacher EMA] → backward → LARS step →
 *   BN running statistics.
 *
 * Shapes: views V × [B, H_v, W_v, C] (global A, global B, then locals); logits
 * [V·B, K] / [2B, K]; block probabilities V (resp. 2) × [N_p, B, P].
 *
 * Semantics kept from the reference:
 * - the teacher is never in eval mode: its BN uses batch statistics and updates its own
 *   running statistics (§2.4, §11.4);
 * - gradient accumulation (§5.4): the back-propagated loss is L/A, gradients are
 *   summed over micro-steps, the optimiser steps on micro-step i iff (i+1) mod A = 0 or i
 *   is the last of the epoch (`isOptimizerStep`), lr/wd are written only then;
 * - the EMA uses the student parameters that produced this forward, before the LARS step
 *   (§11.3). tfjs fuses forward and backward in `variableGrads`; backward leaves the
 *   parameters untouched, so "EMA → backward → step" and "backward → EMA → step" are the
 *   same computation — we run the EMA right before the step;
 * - a non-finite loss aborts (§5.4) — here before anything is modified, with an error
 *   naming the micro-step.
 */
import { tf } from '../backend/tf';
import type { Scalar, Tensor, Tensor2D, Tensor3D, Tensor4D } from '../backend/tf';
import { BatchNormUpdates } from '../models/layers';
import {
  createCarpParams,
  multiCropForward,
  splitViews,
  type CarpNetworkSpec,
} from '../models/carpNetwork';
import type { ParamStore } from '../models/params';
import { LARS } from '../optim/lars';
import type { Rng } from '../random';
import { blockPseudoLabelAccuracy } from './carpLoss';
import { carpLossFromLogits } from './fusedCarpLoss';
import { partitionProbabilities, samplePartition } from './randomPartition';
import { updateTeacher } from './teacherEma';

/** §5.4: micro-step i (0-based within the epoch) ends an accumulation group. */
export function isOptimizerStep(i: number, accumulation: number, itersPerEpoch: number): boolean {
  return (i + 1) % accumulation === 0 || i === itersPerEpoch - 1;
}

/** Sum of gradients over the micro-steps of one accumulation group (owner of the tensors). */
export class GradientAccumulator {
  private sums = new Map<string, Tensor>();

  /** Micro-steps accumulated since the last `take()`. */
  count = 0;

  /** Adds (and takes ownership of) one micro-step's gradients. */
  add(grads: tf.NamedTensorMap): void {
    for (const [name, g] of Object.entries(grads)) {
      const prev = this.sums.get(name);
      if (prev === undefined) {
        this.sums.set(name, g);
      } else {
        this.sums.set(name, tf.add(prev, g));
        tf.dispose([prev, g]);
      }
    }
    this.count++;
  }

  /** The summed gradients (now owned by the caller); the accumulator is empty afterwards. */
  take(): tf.NamedTensorMap {
    const out: tf.NamedTensorMap = Object.fromEntries(this.sums);
    this.sums = new Map();
    this.count = 0;
    return out;
  }

  /** The partial sums (still owned by the accumulator), for checkpoints taken mid-group. */
  entries(): [string, Tensor][] {
    return [...this.sums];
  }

  /** Replaces the content with saved sums (taking ownership) after `count` micro-steps. */
  restore(sums: Map<string, Tensor>, count: number): void {
    this.dispose();
    this.sums = new Map(sums);
    this.count = count;
  }

  dispose(): void {
    tf.dispose([...this.sums.values()]);
    this.sums.clear();
    this.count = 0;
  }
}

function checkRegWeight(regWeight: number): void {
  if (!Number.isFinite(regWeight) || regWeight < 0) {
    throw new Error(`CarpTrainState: regWeight must be a finite number ≥ 0, got ${regWeight}`);
  }
}

function checkPartitionSize(spec: CarpNetworkSpec, partitionSize: number): void {
  const K = spec.head.numPrototypes;
  if (!Number.isInteger(partitionSize) || partitionSize < 1 || partitionSize > K) {
    throw new Error(
      `CarpTrainState: partitionSize must be an integer in [1, K = ${K}], got ${partitionSize}`,
    );
  }
}

/** Everything a micro-step reads and updates; owns its tensors (`dispose()`). */
export class CarpTrainState {
  readonly gradients = new GradientAccumulator();

  constructor(
    readonly spec: CarpNetworkSpec,
    readonly student: ParamStore,
    readonly teacher: ParamStore,
    readonly optimizer: LARS,
    /** P, prototypes per random block (§3). */
    readonly partitionSize: number,
    /** Draws the partition of every micro-step (save/restore its state for resume). */
    readonly partitionRng: Rng,
    /** λ, the weight of L_reg in the loss (`loss.regWeight`, §4.3, §11.35). */
    readonly regWeight = 1,
  ) {
    checkPartitionSize(spec, partitionSize);
    checkRegWeight(regWeight);
  }

  /**
   * A fresh state: student initialised from `rng`, teacher an exact copy (parameters and
   * buffers, §2.4), LARS with μ/η (lr and wd are written at each optimiser step).
   */
  static create(o: {
    spec: CarpNetworkSpec;
    partitionSize: number;
    rng: Rng;
    momentum?: number;
    eta?: number;
    /** λ (`loss.regWeight`); 1, the method's, when omitted. */
    regWeight?: number;
  }): CarpTrainState {
    checkPartitionSize(o.spec, o.partitionSize); // before allocating anything
    checkRegWeight(o.regWeight ?? 1);
    const initRng = o.rng.fork();
    const partitionRng = o.rng.fork();
    const student = createCarpParams(o.spec, initRng, 'student');
    const teacher = student.clone('teacher', false);
    const optimizer = new LARS({
      learningRate: 0,
      weightDecay: 0,
      momentum: o.momentum,
      eta: o.eta,
    });
    return new CarpTrainState(
      o.spec,
      student,
      teacher,
      optimizer,
      o.partitionSize,
      partitionRng,
      o.regWeight ?? 1,
    );
  }

  dispose(): void {
    this.gradients.dispose();
    this.optimizer.dispose();
    this.student.dispose();
    this.teacher.dispose();
  }
}

/** Per-micro-step numbers, read from the schedules by the caller (§5.3, §5.4). */
export interface StepHyperParameters {
  /** Global micro-step t (reported in errors and results). */
  step: number;
  /** lr_t, written into LARS on optimiser steps. */
  learningRate: number;
  /** wd_t (regularised group only), written on optimiser steps. */
  weightDecay: number;
  /** Teacher EMA momentum m_t. */
  teacherMomentum: number;
  /** Accumulation factor A (the loss is divided by it). */
  accumulation: number;
  /** Whether this micro-step ends an accumulation group (`isOptimizerStep`). */
  optimizerStep: boolean;
}

/** What a micro-step reports (plain numbers; the loss is L, not L/A). */
export interface StepResult {
  step: number;
  optimizerStep: boolean;
  /** L = L_cons + λ·L_reg of this micro-batch (the reference logs L/A). */
  loss: number;
  consistency: number;
  entropy: number;
  /** Pseudo-label accuracy (fractions, §7): student view 0 vs teacher view 1, block 0. */
  top1: number;
  top5: number;
  studentArgmax: Int32Array;
  teacherArgmax: Int32Array;
}

/**
 * Runs one micro-step on `views` (owned by the caller, not modified).
 *
 * @param partition optional fixed partition (tests); drawn from `state.partitionRng` otherwise.
 */
export async function trainStep(
  state: CarpTrainState,
  views: readonly Tensor4D[],
  hp: StepHyperParameters,
  partition?: Int32Array,
): Promise<StepResult> {
  const { spec, student, teacher, optimizer, partitionSize: P, regWeight } = state;
  const numViews = views.length;
  if (numViews < 2) throw new Error(`trainStep: need the 2 global views, got ${numViews}`);
  if (!Number.isInteger(hp.accumulation) || hp.accumulation < 1) {
    throw new Error(`trainStep: accumulation must be a positive integer, got ${hp.accumulation}`);
  }
  const teacherBn = new BatchNormUpdates();
  const studentBn = new BatchNormUpdates();
  let teacherProbs: Tensor3D[] = [];
  let studentBlock0: Tensor2D | undefined;
  let terms: Scalar[] = [];
  let grads: tf.NamedTensorMap = {};
  try {
    // 1. Forward, teacher: the two global views, BN in training mode, no tape (§2.4).
    const teacherLogits = multiCropForward(teacher, spec, views.slice(0, 2), {
      training: true,
      bnUpdates: teacherBn,
    });

    // 2. Random partition, shared by all views and images (§3).
    const pi = partition ?? samplePartition(spec.head.numPrototypes, P, state.partitionRng);
    teacherProbs = tf.tidy(() =>
      splitViews(teacherLogits, 2).map((l) => partitionProbabilities(l, pi, P)),
    );
    teacherLogits.dispose();

    // 3. Forward, student on all views; loss (L_cons + λ·L_reg)/A; backward (§4, §5.4).
    const result = tf.variableGrads(() => {
      const logits = multiCropForward(student, spec, views, {
        training: true,
        bnUpdates: studentBn,
      });
      // One native kernel where the addon is loaded, the composed graph elsewhere.
      const loss = carpLossFromLogits(logits, teacherProbs, pi, P, numViews, regWeight);
      terms = [loss.total, loss.consistency, loss.entropy].map((t) => tf.keep(t));
      studentBlock0 = tf.keep(loss.studentBlock0);
      return tf.div(loss.total, hp.accumulation) as Scalar;
    }, student.trainableVariables());
    result.value.dispose();
    grads = result.grads;
  } catch (e) {
    tf.dispose([...teacherProbs, ...terms]);
    studentBlock0?.dispose();
    teacherBn.dispose();
    studentBn.dispose();
    throw e;
  }
  // Asynchronous reads (the webgpu backend cannot read synchronously in Node).
  const [loss, consistency, entropy] = await Promise.all(
    terms.map(async (t) => (await t.data())[0]),
  );
  const acc = await blockPseudoLabelAccuracy(studentBlock0!, teacherProbs[1]);
  tf.dispose([...terms, studentBlock0!, ...teacherProbs]);

  // 4. Abort on a non-finite loss, before any state changes (§5.4).
  if (!Number.isFinite(loss)) {
    tf.dispose(Object.values(grads));
    teacherBn.dispose();
    studentBn.dispose();
    throw new Error(
      `trainStep: non-finite loss at micro-step ${hp.step} (L_cons = ${consistency}, L_reg = ${entropy})`,
    );
  }
  state.gradients.add(grads);

  // 5. Optimiser steps only: EMA of the teacher with the current student, then LARS.
  if (hp.optimizerStep) {
    updateTeacher(teacher, student, hp.teacherMomentum);
    optimizer.setLearningRate(hp.learningRate);
    optimizer.setWeightDecay(hp.weightDecay);
    const summed = state.gradients.take();
    optimizer.applyGradients(summed);
    tf.dispose(Object.values(summed));
  }

  // 6. BN running statistics of both networks, from this micro-step's forwards.
  teacherBn.apply();
  studentBn.apply();

  return { step: hp.step, optimizerStep: hp.optimizerStep, loss, consistency, entropy, ...acc };
}
