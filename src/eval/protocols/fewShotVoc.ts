/**
 * PASCAL VOC 2007 few-shot / full linear SVMs on the prepared data (spec §9.5):
 * `voc2007/{trainval,test}` from `data-scripts/voc2007.ts` (centre-256 bilinear, labelDim 20,
 * +1 / −1, or 0 for difficult in the `voc2007-difficult0` variant — 0 counts as negative
 * in training and evaluation either way). Features: T-eval with **bilinear** resize,
 * cached per split; the rows are divided by ‖x‖₂ + 1e-5 inside `vocSvmEvaluation`.
 *
 * Full mode: one SVM per class on all trainval rows, AP on test. Low-shot mode: k ∈
 * {1, 2, 4, 8, 16} × 5 runs from one generator seeded with 0 (`lowShotVocSvm`), mean and
 * (population) std of mAP. Metrics are fractions (×100 to print as the paper does).
 */
import type { FeatureSet } from '../features';
import { lowShotVocSvm, vocSvmEvaluation, type LowShotResult } from '../math/vocSvm';
import { splitFeatures } from './knn';
import type { EvalResult } from '../results';
import { finishResult, requirePrepared, type RunnerContext } from '../context';

export type VocMode = 'full' | 'lowshot' | 'both';

export interface VocFewShotOptions {
  /** Which modes to run (default both). */
  mode?: VocMode;
  /** Low-shot k values (spec: 1, 2, 4, 8, 16). */
  shots?: number[];
  /** Runs per k (spec: 5). */
  runs?: number;
  /** Seed of the one low-shot generator and of the SVM solver (spec: 0). */
  seed?: number;
  /** SVM costs; the best mean AP is kept (spec: 0.5 only). */
  costs?: number[];
}

export interface VocFewShotMetrics {
  /** Full mode: mAP, AP per class (by class name), the cost kept. */
  full?: { mAP: number; aps: Record<string, number>; cost: number };
  /** Low-shot mode: per k, the mAP of every run, their mean and std. */
  lowShot?: LowShotResult[];
}

function checkMultiLabel(set: FeatureSet, classes: string[], where: string): void {
  if (set.labelDim < 2 || classes.length !== set.labelDim) {
    throw new Error(
      `${where}: labelDim ${set.labelDim} with ${classes.length} classes; expected one ±1/0 column per class (VOC07: 20)`,
    );
  }
}

/** Runs §9.5 on the prepared VOC07 splits of `ctx.dataset` (e.g. `voc2007`). */
export async function runVocFewShot(
  ctx: RunnerContext,
  o: VocFewShotOptions = {},
): Promise<EvalResult<VocFewShotMetrics>> {
  const t0 = performance.now();
  const mode = o.mode ?? 'both';
  if (!['full', 'lowshot', 'both'].includes(mode))
    throw new Error(`runVocFewShot: mode must be full, lowshot or both, got '${mode}'`);
  for (const split of ['trainval', 'test']) requirePrepared(ctx.dataset, split, 'voc2007.ts');
  // Spec §9.5: T-eval with a bilinear resize.
  const train = await splitFeatures(ctx, 'trainval', 'bilinear');
  const test = await splitFeatures(ctx, 'test', 'bilinear');
  const classes = train.source.classes;
  checkMultiLabel(train.set, classes, `${ctx.dataset}/trainval`);
  checkMultiLabel(test.set, test.source.classes, `${ctx.dataset}/test`);
  if (test.set.labelDim !== train.set.labelDim)
    throw new Error(
      `${ctx.dataset}: trainval has ${train.set.labelDim} label columns, test ${test.set.labelDim}`,
    );
  const svm = {
    dim: train.set.dim,
    numClasses: train.set.labelDim,
    costs: o.costs ?? [0.5],
    seed: o.seed ?? 0,
  };
  const trainSet = { features: train.set.features, labels: train.set.labels };
  const testSet = { features: test.set.features, labels: test.set.labels };
  const metrics: VocFewShotMetrics = {};
  if (mode !== 'lowshot') {
    const r = vocSvmEvaluation(trainSet, testSet, svm);
    metrics.full = {
      mAP: r.mAP,
      aps: Object.fromEntries(classes.map((c, i) => [c, r.aps[i]])),
      cost: r.cost,
    };
  }
  const shots = o.shots ?? [1, 2, 4, 8, 16];
  const runs = o.runs ?? 5;
  if (mode !== 'full') metrics.lowShot = lowShotVocSvm(trainSet, testSet, { ...svm, shots, runs });
  train.source.close();
  test.source.close();
  return finishResult(
    ctx,
    {
      protocol: 'fewshot',
      splits: { trainval: train.set.count, test: test.set.count },
      settings: {
        mode,
        ...(mode !== 'full' ? { shots, runs } : {}),
        seed: svm.seed,
        costs: svm.costs,
        classWeight: { positive: 2, negative: 1 },
        filter: 'bilinear',
        rowNorm: 'x / (||x|| + 1e-5)',
        dim: svm.dim,
      },
      metrics,
    },
    t0,
  );
}
