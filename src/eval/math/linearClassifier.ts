/**
 * The one trainer of a linear classifier on frozen features, shared by the linear probe
 * (§9.1) and iNaturalist few-shot (§9.6): `D → C`, weight N(0, 0.01²), bias 0 (a 1-D
 * `[C]` vector), cross-entropy (batch mean), a learning rate per epoch, validation after
 * every epoch; the reported figures are the best top-1 over epochs, the top-5 of that
 * epoch and the best top-5.
 *
 * Optimisers:
 * - `lars` (§9.1): the LARS of §5.2 — the weight matrix gets the trust ratio, the 1-D bias
 *   is plain heavy-ball SGD with the full learning rate (LARS tests the rank, so the bias
 *   must be 1-D: a `[1, C]` bias would get the trust ratio η·‖b‖/‖g‖ and freeze at 0);
 * - `sgd` (§9.6): PyTorch's `torch.optim.SGD` (dampening 0, no Nesterov): d = g + λ·p on
 *   the weight and the bias, buf ← μ·buf + d (buf starts at 0, equal to PyTorch's
 *   first-step buf = d), p ← p − lr·buf.
 */
import { tf } from '../../backend/tf';
import type { Tensor, Tensor1D, Tensor2D, Variable } from '../../backend/tf';
import { LARS } from '../../optim/lars';
import { createRng, type Rng } from '../../random';
import { Progress } from '../../util/progress';
import type { FeatureSet } from '../features';

export type LinearOptimizer =
  | { kind: 'lars'; momentum: number; eta: number; weightDecay: number }
  | { kind: 'sgd'; momentum: number; weightDecay: number };

export interface LinearClassifierOptions {
  train: FeatureSet;
  val: FeatureSet;
  numClasses: number;
  /** Learning rate of each epoch (its length is the number of epochs). */
  lrs: number[];
  optimizer: LinearOptimizer;
  batchSize: number;
  /** Seed of the weight init and the per-epoch shuffles. */
  seed: number;
  /** Training rows of `train` (default all). */
  rows?: Int32Array;
  /**
   * Training batches of an epoch (features `[B, D]`, disposed here, + labels), e.g. of
   * augmented crops; default: shuffled batches of `train` rows (last partial batch kept).
   */
  trainBatches?: (
    epoch: number,
    rng: Rng,
  ) => AsyncIterable<{ features: Tensor2D; labels: Int32Array }>;
  /** Progress label (one line per epoch); none when absent. */
  progress?: string;
  onEpoch?: (e: LinearEpoch) => void;
}

export interface LinearEpoch {
  epoch: number;
  lr: number;
  trainLoss: number;
  top1: number;
  top5: number;
}

export interface LinearClassifierResult {
  /** Best validation top-1 over epochs (fraction). */
  top1: number;
  /** Top-5 at the best-top-1 epoch (fraction). */
  top5: number;
  /** Best validation top-5 over epochs (fraction). */
  bestTop5: number;
  bestEpoch: number;
  /** Training rows per epoch. */
  trainCount: number;
  history: LinearEpoch[];
  /** The classifier after the last epoch: weight `[D, C]` row-major and bias `[C]`. */
  final: { weight: Float32Array; bias: Float32Array };
}

function checkSet(s: FeatureSet, numClasses: number, name: string, where: string): void {
  if (s.count === 0) throw new Error(`${where}: ${name} features are empty`);
  if (s.labelDim !== 1)
    throw new Error(`${where}: ${name} labels must be single-label (labelDim 1)`);
  for (let i = 0; i < s.count; i++) {
    if (!(s.labels[i] >= 0 && s.labels[i] < numClasses)) {
      throw new Error(
        `${where}: ${name} label ${s.labels[i]} at row ${i} is outside [0, ${numClasses})`,
      );
    }
  }
}

/** Shuffled batches of `rows` of a feature set. */
async function* featureBatches(set: FeatureSet, rows: Int32Array, batchSize: number, rng: Rng) {
  const order = rng.shuffle(Int32Array.from(rows));
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.subarray(start, Math.min(start + batchSize, order.length));
    const x = new Float32Array(idx.length * set.dim);
    const labels = new Int32Array(idx.length);
    idx.forEach((row, i) => {
      x.set(set.features.subarray(row * set.dim, (row + 1) * set.dim), i * set.dim);
      labels[i] = set.labels[row];
    });
    yield { features: tf.tensor2d(x, [idx.length, set.dim]), labels };
  }
}

/**
 * Top-1 and top-5 accuracy (fractions) of a linear classifier on a feature set. Reads are
 * asynchronous: the webgpu backend cannot read synchronously in Node.
 */
export async function evaluateLinear(
  w: Tensor2D,
  b: Tensor1D,
  set: FeatureSet,
  chunk = 4096,
): Promise<{ top1: number; top5: number }> {
  let c1 = 0;
  let c5 = 0;
  const k = Math.min(5, w.shape[1]);
  for (let start = 0; start < set.count; start += chunk) {
    const n = Math.min(chunk, set.count - start);
    const top = tf.tidy(() => {
      const x = tf.tensor2d(set.features.subarray(start * set.dim, (start + n) * set.dim), [
        n,
        set.dim,
      ]);
      return tf.topk(tf.add(tf.matMul(x, w), b), k).indices;
    });
    const idx = await top.data();
    top.dispose();
    for (let i = 0; i < n; i++) {
      const y = set.labels[start + i];
      if (idx[i * k] === y) c1++;
      for (let j = 0; j < k; j++) if (idx[i * k + j] === y) c5++;
    }
  }
  return { top1: c1 / set.count, top5: c5 / set.count };
}

/**
 * One SGD-with-momentum step in PyTorch semantics (see the header): the new parameter and
 * buffer; the caller assigns them. Pure, so the update can be checked by hand.
 */
export function momentumSgdUpdate(
  param: Tensor,
  grad: Tensor,
  buf: Tensor,
  o: { lr: number; momentum: number; weightDecay: number },
): { param: Tensor; buf: Tensor } {
  return tf.tidy(() => {
    const d = tf.add(grad, tf.mul(param, o.weightDecay));
    const nextBuf = tf.add(tf.mul(buf, o.momentum), d);
    return { param: tf.sub(param, tf.mul(nextBuf, o.lr)), buf: nextBuf };
  });
}

/** The optimiser step for `w` and `b` at learning rate `lr`. */
function stepper(o: LinearOptimizer, w: Variable, b: Variable) {
  if (o.kind === 'lars') {
    const lars = new LARS({
      learningRate: 1,
      weightDecay: o.weightDecay,
      momentum: o.momentum,
      eta: o.eta,
    });
    return {
      step: (grads: tf.NamedTensorMap, lr: number) => {
        lars.setLearningRate(lr);
        lars.applyGradients(grads);
      },
      dispose: () => lars.dispose(),
    };
  }
  const bufs = [w, b].map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  return {
    step: (grads: tf.NamedTensorMap, lr: number) =>
      [w, b].forEach((v, i) => {
        const next = momentumSgdUpdate(v, grads[v.name], bufs[i], { lr, ...o });
        bufs[i].assign(next.buf);
        v.assign(next.param);
        tf.dispose([next.buf, next.param]);
      }),
    dispose: () => tf.dispose(bufs),
  };
}

/** Trains and validates the linear classifier; returns the best epoch. */
export async function trainLinearClassifier(
  o: LinearClassifierOptions,
): Promise<LinearClassifierResult> {
  const { train, val, numClasses } = o;
  const where = o.optimizer.kind === 'lars' ? 'linearProbe' : 'linearClassifier';
  if (train.dim !== val.dim)
    throw new Error(`${where}: train dim ${train.dim} != val dim ${val.dim}`);
  checkSet(train, numClasses, 'train', where);
  checkSet(val, numClasses, 'val', where);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
    throw new Error(`${where}: batchSize must be a positive integer, got ${o.batchSize}`);
  if (o.lrs.length === 0) throw new Error(`${where}: at least one epoch is needed`);
  const rows = o.rows ?? Int32Array.from({ length: train.count }, (_, i) => i);
  const rng = createRng(o.seed);
  const dim = train.dim;
  const init = new Float32Array(dim * numClasses).map(() => 0.01 * rng.normal());
  // Names end in `.weight` / `.bias` (the parameter groups of §5.1); the id keeps two
  // classifiers in one process apart. Variables survive tidy; their initial tensors do not.
  const id = rng.seed32();
  const w: Variable = tf.tidy(() =>
    tf.variable(tf.tensor2d(init, [dim, numClasses]), true, `linear-${id}.weight`),
  );
  const b: Variable = tf.tidy(() => tf.variable(tf.zeros([numClasses]), true, `linear-${id}.bias`));
  const opt = stepper(o.optimizer, w, b);
  const progress = o.progress
    ? new Progress({ total: o.lrs.length, label: o.progress, itemsPerStep: rows.length })
    : undefined;
  const history: LinearEpoch[] = [];
  let final: LinearClassifierResult['final'];
  try {
    for (let epoch = 0; epoch < o.lrs.length; epoch++) {
      const lr = o.lrs[epoch];
      let lossSum = 0;
      let seen = 0;
      const batches = o.trainBatches
        ? o.trainBatches(epoch, rng)
        : featureBatches(train, rows, o.batchSize, rng);
      for await (const batch of batches) {
        const n = batch.labels.length;
        const loss = tf.tidy(() => {
          const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), numClasses);
          const { value, grads } = tf.variableGrads(
            () =>
              tf.losses.softmaxCrossEntropy(
                y,
                tf.add(tf.matMul(batch.features, w), b),
              ) as tf.Scalar,
            [w, b],
          );
          opt.step(grads, lr);
          return value;
        });
        batch.features.dispose();
        lossSum += (await loss.data())[0] * n;
        loss.dispose();
        seen += n;
      }
      const acc = await evaluateLinear(w as Tensor2D, b as Tensor1D, val);
      const e: LinearEpoch = { epoch, lr, trainLoss: lossSum / Math.max(seen, 1), ...acc };
      history.push(e);
      o.onEpoch?.(e);
      progress?.update(epoch + 1, { loss: e.trainLoss, top1: e.top1 });
    }
    final = { weight: (await w.data()) as Float32Array, bias: (await b.data()) as Float32Array };
  } finally {
    opt.dispose();
    tf.dispose([w, b]);
  }
  const best = history.reduce((a, e) => (e.top1 > a.top1 ? e : a), history[0]);
  return {
    top1: best.top1,
    top5: best.top5,
    bestTop5: Math.max(...history.map((e) => e.top5)),
    bestEpoch: best.epoch,
    trainCount: rows.length,
    history,
    final,
  };
}
