/**
 * Linear evaluation (spec §9.1, adapted to cached features): a linear classifier
 * `D → C` (weights N(0, 0.01²), bias 0, no BN, no feature normalisation) trained with
 * cross-entropy and the LARS of §5.2 at weight decay 0 (the weight matrix gets the trust
 * ratio, the bias is plain momentum SGD), learning rate `lr · ½(1 + cos(π e / E))` set
 * per **epoch**, validated every epoch; the reported figures are the **best** top-1 over
 * epochs (and the top-5 of that epoch).
 *
 * Adaptation [JUDGEMENT]: by default the classifier trains on the cached centre-crop
 * features (one extraction, then seconds per epoch). The reference trains on random
 * resized crops + flips through the frozen backbone; pass `trainBatches` to do that
 * (e.g. `augmentedFeatureBatches`), at the cost of a backbone forward per batch.
 */
import { tf } from '../../backend/tf';
import type { Tensor2D, Variable } from '../../backend/tf';
import { LARS } from '../../optim/lars';
import { createRng, type Rng } from '../../random';
import type { FeatureSet } from '../features';

export interface LinearProbeOptions {
  train: FeatureSet;
  val: FeatureSet;
  numClasses: number;
  /** Epochs E (spec: 100). */
  epochs?: number;
  /** Base learning rate (spec: 1.0, not batch-scaled). */
  lr?: number;
  /** Batch per optimiser step (spec: 2048 = 4 GPUs × 128 × 4 accumulation). */
  batchSize?: number;
  momentum?: number;
  /**
   * LARS trust coefficient (spec: 0.001). With η = 0.001 the weight moves by ~0.1% of
   * its norm per step, which needs the reference's ~60k steps; small proxy runs may
   * raise it (recorded in the result settings by the caller).
   */
  eta?: number;
  seed?: number;
  /**
   * Optional source of training batches for an epoch (features `[B, D]` + labels), e.g.
   * features of augmented crops; default: shuffled batches of `train` (drop-last off).
   */
  trainBatches?: (
    epoch: number,
    rng: Rng,
  ) => AsyncIterable<{ features: Tensor2D; labels: Int32Array }>;
  onEpoch?: (e: LinearProbeEpoch) => void;
}

export interface LinearProbeEpoch {
  epoch: number;
  lr: number;
  trainLoss: number;
  top1: number;
  top5: number;
}

export interface LinearProbeResult {
  /** Best validation top-1 over epochs (fraction). */
  top1: number;
  /** Top-5 at the best-top-1 epoch (fraction). */
  top5: number;
  bestEpoch: number;
  history: LinearProbeEpoch[];
}

function checkSet(s: FeatureSet, numClasses: number, name: string): void {
  if (s.count === 0) throw new Error(`linearProbe: ${name} features are empty`);
  if (s.labelDim !== 1)
    throw new Error(`linearProbe: ${name} labels must be single-label (labelDim 1)`);
  for (let i = 0; i < s.count; i++) {
    if (!(s.labels[i] >= 0 && s.labels[i] < numClasses)) {
      throw new Error(
        `linearProbe: ${name} label ${s.labels[i]} at row ${i} is outside [0, ${numClasses})`,
      );
    }
  }
}

async function* featureBatches(set: FeatureSet, batchSize: number, rng: Rng) {
  const order = rng.permutation(set.count);
  for (let start = 0; start < set.count; start += batchSize) {
    const idx = order.subarray(start, Math.min(start + batchSize, set.count));
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
  b: Tensor2D,
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

/** Trains and validates the linear classifier; returns the best epoch (spec §9.1). */
export async function linearProbe(o: LinearProbeOptions): Promise<LinearProbeResult> {
  const { train, val, numClasses } = o;
  if (train.dim !== val.dim)
    throw new Error(`linearProbe: train dim ${train.dim} != val dim ${val.dim}`);
  checkSet(train, numClasses, 'train');
  checkSet(val, numClasses, 'val');
  const epochs = o.epochs ?? 100;
  const baseLr = o.lr ?? 1.0;
  const batchSize = o.batchSize ?? 2048;
  const rng = createRng(o.seed ?? 0);
  const dim = train.dim;

  const init = new Float32Array(dim * numClasses).map(() => 0.01 * rng.normal());
  // Names end in `.weight` / `.bias` so LARS puts the bias in the unregularised group (§5.1).
  // Variables survive tidy; their initial tensors do not (tf.variable keeps them alive).
  const id = rng.seed32();
  const w: Variable = tf.tidy(() =>
    tf.variable(tf.tensor2d(init, [dim, numClasses]), true, `probe-${id}.weight`),
  );
  const b: Variable = tf.tidy(() =>
    tf.variable(tf.zeros([1, numClasses]), true, `probe-${id}.bias`),
  );
  const opt = new LARS({
    learningRate: baseLr,
    weightDecay: 0,
    momentum: o.momentum ?? 0.9,
    eta: o.eta ?? 0.001,
  });
  const history: LinearProbeEpoch[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const lr = baseLr * 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
      opt.setLearningRate(lr);
      let lossSum = 0;
      let seen = 0;
      const batches = o.trainBatches
        ? o.trainBatches(epoch, rng)
        : featureBatches(train, batchSize, rng);
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
          opt.applyGradients(grads);
          return value;
        });
        batch.features.dispose();
        lossSum += (await loss.data())[0] * n;
        loss.dispose();
        seen += n;
      }
      const acc = await evaluateLinear(w as Tensor2D, b as Tensor2D, val);
      const e: LinearProbeEpoch = { epoch, lr, trainLoss: lossSum / Math.max(seen, 1), ...acc };
      history.push(e);
      o.onEpoch?.(e);
    }
  } finally {
    w.dispose();
    b.dispose();
    opt.dispose();
  }
  const best = history.reduce((a, e) => (e.top1 > a.top1 ? e : a), history[0]);
  return { top1: best.top1, top5: best.top5, bestEpoch: best.epoch, history };
}
