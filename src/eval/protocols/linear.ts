/**
 * Linear evaluation (§9.1): a linear classifier `D → C` on the frozen teacher's features,
 * cross-entropy, the LARS of §5.2 at weight decay 0 (the weight gets the trust ratio, the
 * bias plain momentum SGD), learning rate `lr · ½(1 + cos(π e / E))` set per **epoch**,
 * validated every epoch on bicubic T-eval features; reported: the **best** top-1 over
 * epochs (and the top-5 of that epoch).
 *
 * Training images [judgement call, §11]: by default the classifier trains on the cached
 * centre-crop features (one extraction, then seconds per epoch). The reference trains on
 * random resized crops (area 0.08–1, bilinear) + flips through the frozen backbone every
 * epoch: `augment: true` does that (`augmentedFeatureBatches`), at the cost of a backbone
 * forward per image and epoch. Prepared ImageNet folders hold centre-256 squares, so the
 * augmented crops are drawn from those squares, not the full original images: the result
 * records it (`trainImages`).
 */
import { evalSplits } from '../../data/datasets';
import { augmentedFeatureBatches, augmentSettings } from '../augmentedFeatures';
import { checkEvalInput, teacherInput, type EvalContext } from '../context';
import type { FeatureSet } from '../features';
import { trainLinearClassifier, type LinearClassifierResult } from '../math/linearClassifier';
import type { EvalResult } from '../results';
import { bankAndQueries, openEvalSplit, splitFeatures } from '../splitFeatures';
import { recordResult, withDefaults } from './record';

/** §9.1 settings (lr 1.0 not batch-scaled, 100 epochs, 2048 images per step, η 0.001). */
export const LINEAR_DEFAULTS = {
  epochs: 100,
  lr: 1.0,
  batchSize: 2048,
  momentum: 0.9,
  /**
   * LARS trust coefficient. With η = 0.001 the weight moves by ≈ 0.1 % of its norm per
   * step, which needs the reference's ≈ 60 000 steps; short runs may raise it (recorded).
   */
  eta: 0.001,
  augment: false,
  seed: 0,
};
export type LinearOptions = Partial<typeof LINEAR_DEFAULTS>;

/** Per-epoch learning rates of §9.1: lr · ½(1 + cos(π e / E)), e = 0 … E − 1. */
export function linearLrs(lr: number, epochs: number): number[] {
  return Array.from(
    { length: epochs },
    (_, e) => lr * 0.5 * (1 + Math.cos((Math.PI * e) / epochs)),
  );
}

/** §9.1 on given features (no network): the classifier trained with LARS, best epoch. */
export function linearProbe(
  o: { train: FeatureSet; val: FeatureSet; numClasses: number; progress?: string } & Omit<
    LinearOptions,
    'augment'
  >,
): Promise<LinearClassifierResult> {
  const s = withDefaults('linearProbe', LINEAR_DEFAULTS, {
    epochs: o.epochs,
    lr: o.lr,
    batchSize: o.batchSize,
    momentum: o.momentum,
    eta: o.eta,
    seed: o.seed,
  });
  return trainLinearClassifier({
    train: o.train,
    val: o.val,
    numClasses: o.numClasses,
    lrs: linearLrs(s.lr, s.epochs),
    optimizer: { kind: 'lars', momentum: s.momentum, eta: s.eta, weightDecay: 0 },
    batchSize: s.batchSize,
    seed: s.seed,
    progress: o.progress,
  });
}

export interface LinearMetrics {
  top1: number;
  top5: number;
  bestEpoch: number;
  history: LinearClassifierResult['history'];
}

/** Runs §9.1 on `ctx.dataset` and writes `eval/linear-<dataset>….json`. */
export async function runLinear(
  ctx: EvalContext,
  options: LinearOptions = {},
): Promise<EvalResult<LinearMetrics>> {
  const t0 = performance.now();
  const s = withDefaults('linear', LINEAR_DEFAULTS, options);
  const common = {
    numClasses: 0,
    lrs: linearLrs(s.lr, s.epochs),
    optimizer: { kind: 'lars' as const, momentum: s.momentum, eta: s.eta, weightDecay: 0 },
    batchSize: s.batchSize,
    seed: s.seed,
    progress: `linear ${ctx.dataset}`,
  };
  let r: LinearClassifierResult;
  let splits: Record<string, number>;
  let extra: Record<string, unknown> = {};
  if (s.augment) {
    const names = evalSplits(ctx.dataset);
    const source = await openEvalSplit(ctx, names.bank);
    try {
      checkEvalInput(ctx, source, 'bilinear');
      const test = await splitFeatures(ctx, names.query, 'bicubic');
      await test.source.close();
      const input = teacherInput(ctx.teacher);
      // With `trainBatches` the trainer reads only the labels of `train`: nothing to extract.
      const { labels, count, labelDim } = source;
      const train = { features: new Float32Array(0), labels, count, labelDim, dim: test.set.dim };
      const trainBatches = augmentedFeatureBatches({
        params: ctx.teacher.params,
        spec: ctx.teacher.spec,
        source,
        size: input.cropSize,
        mean: input.mean,
        std: input.std,
        batchSize: s.batchSize,
        forwardBatch: ctx.batchSize,
      });
      const numClasses = Math.max(source.classes.length, test.source.classes.length);
      r = await trainLinearClassifier({
        ...common,
        numClasses,
        train,
        val: test.set,
        trainBatches,
      });
      splits = { [names.bank]: source.count, [names.query]: test.set.count };
      const prepared = source.preprocessing;
      extra = {
        augmentation: { ...augmentSettings(), size: input.cropSize },
        trainImages: prepared
          ? `crops of the prepared images (${prepared})`
          : 'crops of the images',
      };
    } finally {
      await source.close();
    }
  } else {
    const { bank, queries, numClasses, splitNames } = await bankAndQueries(ctx);
    r = await trainLinearClassifier({ ...common, numClasses, train: bank.set, val: queries.set });
    splits = { [splitNames.bank]: bank.set.count, [splitNames.query]: queries.set.count };
  }
  return recordResult(ctx, {
    protocol: 'linear',
    defaults: LINEAR_DEFAULTS,
    settings: { ...s, ...extra },
    splits,
    metrics: { top1: r.top1, top5: r.top5, bestEpoch: r.bestEpoch, history: r.history },
    t0,
  });
}
