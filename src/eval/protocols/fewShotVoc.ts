/**
 * Few-shot linear SVMs, PASCAL VOC 2007 (§9.5), on the prepared data or its offline
 * Fashion-MNIST stand-in.
 *
 * - `voc2007[-variant]`: `voc2007/{trainval,test}` from data-scripts/voc2007.ts
 *   (centre-256 bilinear, labelDim 20, +1 / −1, or 0 for difficult in the
 *   `voc2007-difficult0` variant — 0 counts as negative either way, §11.12); features:
 *   T-eval with a **bilinear** resize.
 * - `fashion-mnist` → `fmnist-fewshot-proxy` (data/proxies/fewShotProxy.ts): a seeded
 *   class-balanced pool of the train split (500 per class) with one-hot ±1 labels, the
 *   test split as the test set; low-shot mode only (the proxy's point is the k curve).
 * Full mode: one SVM per class on every training row, AP on test. Low-shot mode: k ∈
 * {1, 2, 4, 8, 16} × 5 runs from one generator seeded with 0, mean and (population) std
 * of mAP. The SVM maths (liblinear dual CD, C 0.5, class weights 2/1, rows divided by
 * ‖x‖ + 1e-5) is math/vocSvm.ts. Metrics are fractions (×100 to print as the paper does).
 */
import type { ImageDataset } from '../../data/dataset';
import { loadFashionMnist } from '../../data/fashionMnist';
import {
  buildFewShotProxy,
  FMNIST_FEWSHOT_PROXY,
  plusMinusOneHot,
  type FewShotProxySets,
} from '../../data/proxies/fewShotProxy';
import { requirePrepared, type EvalContext } from '../context';
import { contextExtractor, extractChecked, type FeatureExtractor } from '../extractors';
import type { FeatureSet } from '../features';
import { lowShotVocSvm, vocSvmEvaluation, type MultiLabelSet } from '../math/vocSvm';
import type { EvalResult } from '../results';
import { splitFeatures } from '../splitFeatures';
import { recordResult, withDefaults } from './record';

/** §9.5 settings (the proxy adds its pool size and seed). */
export const VOC_FEWSHOT_DEFAULTS = {
  mode: 'both' as 'full' | 'lowshot' | 'both',
  shots: [1, 2, 4, 8, 16] as number[],
  runs: 5,
  /** Seed of the one low-shot generator and of the SVM solver. */
  seed: 0,
  /** SVM costs; the best mean AP is kept (the reference: 0.5 only). */
  costs: [0.5] as number[],
  filter: 'bilinear' as const,
  /** Proxy only: pool images per class drawn from the train split, and its seed. */
  poolPerClass: 500,
  poolSeed: 0,
};
export type VocFewShotOptions = Partial<typeof VOC_FEWSHOT_DEFAULTS>;

export interface VocFewShotMetrics {
  /** Full mode: mAP, AP per class (by class name), the cost kept. */
  full?: { mAP: number; aps: Record<string, number>; cost: number };
  /** Low-shot mode, per k: mean mAP over the runs, population std, each run's mAP. */
  lowShot?: Record<string, { mAP: number; std: number; runs: number[] }>;
}

function checkMultiLabel(set: FeatureSet, classes: string[], where: string): void {
  if (set.labelDim < 2 || classes.length !== set.labelDim) {
    throw new Error(
      `${where}: labelDim ${set.labelDim} with ${classes.length} classes; expected one ±1/0 column per class (VOC07: 20)`,
    );
  }
}

/** Full and/or low-shot SVMs on multi-label features (§9.5). */
export function vocFewShotMetrics(
  train: MultiLabelSet,
  test: MultiLabelSet,
  classes: string[],
  s: typeof VOC_FEWSHOT_DEFAULTS & { dim: number },
): VocFewShotMetrics {
  if (!['full', 'lowshot', 'both'].includes(s.mode))
    throw new Error(`fewshot: mode must be full, lowshot or both, got '${s.mode}'`);
  const svm = { dim: s.dim, numClasses: classes.length, costs: s.costs, seed: s.seed };
  const metrics: VocFewShotMetrics = {};
  if (s.mode !== 'lowshot') {
    const r = vocSvmEvaluation(train, test, svm);
    metrics.full = {
      mAP: r.mAP,
      aps: Object.fromEntries(classes.map((c, i) => [c, r.aps[i]])),
      cost: r.cost,
    };
  }
  if (s.mode !== 'full') {
    const results = lowShotVocSvm(train, test, { ...svm, shots: s.shots, runs: s.runs });
    metrics.lowShot = Object.fromEntries(
      results.map((r) => [String(r.k), { mAP: r.mean, std: r.std, runs: r.runs }]),
    );
  }
  return metrics;
}

/** §9.5 on the prepared VOC07 splits of `ctx.dataset`. */
async function runVoc(ctx: EvalContext, s: typeof VOC_FEWSHOT_DEFAULTS, t0: number) {
  for (const split of ['trainval', 'test']) requirePrepared(ctx.dataset, split, 'voc2007.ts');
  const train = await splitFeatures(ctx, 'trainval', s.filter);
  const test = await splitFeatures(ctx, 'test', s.filter);
  await train.source.close();
  await test.source.close();
  const classes = train.source.classes;
  checkMultiLabel(train.set, classes, `${ctx.dataset}/trainval`);
  checkMultiLabel(test.set, test.source.classes, `${ctx.dataset}/test`);
  if (test.set.labelDim !== train.set.labelDim)
    throw new Error(
      `${ctx.dataset}: trainval has ${train.set.labelDim} label columns, test ${test.set.labelDim}`,
    );
  const metrics = vocFewShotMetrics(train.set, test.set, classes, { ...s, dim: train.set.dim });
  return recordResult(ctx, {
    protocol: 'fewshot',
    defaults: VOC_FEWSHOT_DEFAULTS,
    settings: {
      ...s,
      classWeight: { positive: 2, negative: 1 },
      rowNorm: 'x / (||x|| + 1e-5)',
      dim: train.set.dim,
    },
    splits: { trainval: train.set.count, test: test.set.count },
    metrics,
    t0,
  });
}

/** Extracts the proxy's pool and test features with `extract` and runs the low-shot SVMs. */
export async function fewShotProxyEvaluation(
  o: {
    extract: FeatureExtractor;
    testCount?: number;
    /** The splits to build from (default: Fashion-MNIST's). */
    train?: ImageDataset;
    test?: ImageDataset;
  } & VocFewShotOptions,
): Promise<{ metrics: VocFewShotMetrics; sets: FewShotProxySets; dim: number }> {
  const { extract, testCount, train: trainSplit, test: testSplit, ...options } = o;
  const s = withDefaults('fewshot', VOC_FEWSHOT_DEFAULTS, options);
  const sets = buildFewShotProxy(
    trainSplit ?? loadFashionMnist('train'),
    testSplit ?? loadFashionMnist('test'),
    {
      poolPerClass: s.poolPerClass,
      seed: s.poolSeed,
      testCount,
    },
  );
  const train = await extractChecked(extract, sets.train, 'the few-shot pool');
  const test = await extractChecked(extract, sets.test, 'the few-shot test set');
  // Labels come from the builder, never from what the extractor echoes back.
  const metrics = vocFewShotMetrics(
    { features: train.features, labels: plusMinusOneHot(sets.train.labels, sets.numClasses) },
    { features: test.features, labels: plusMinusOneHot(sets.test.labels, sets.numClasses) },
    sets.train.classes,
    { ...s, mode: 'lowshot', dim: train.dim },
  );
  return { metrics, sets, dim: train.dim };
}

/** The Fashion-MNIST stand-in (`fmnist-fewshot-proxy`), low-shot mode. */
async function runProxy(ctx: EvalContext, s: typeof VOC_FEWSHOT_DEFAULTS, t0: number) {
  if (s.mode !== 'lowshot' && s.mode !== 'both')
    throw new Error(
      `fewshot on fashion-mnist (the proxy) runs the low-shot mode only, not '${s.mode}'`,
    );
  const r = await fewShotProxyEvaluation({
    ...s,
    extract: contextExtractor(ctx, FMNIST_FEWSHOT_PROXY, s.filter),
    testCount: ctx.limit ?? undefined,
  });
  return recordResult(ctx, {
    protocol: 'fewshot',
    dataset: FMNIST_FEWSHOT_PROXY,
    proxy: true,
    defaults: VOC_FEWSHOT_DEFAULTS,
    settings: {
      ...s,
      ran: 'lowshot',
      labels: 'one-hot ±1 over the 10 Fashion-MNIST classes',
      dim: r.dim,
    },
    splits: { pool: r.sets.train.count, test: r.sets.test.count },
    metrics: r.metrics,
    t0,
  });
}

/** Runs §9.5 on VOC07 (`voc2007[-variant]`) or on the Fashion-MNIST proxy. */
export async function runVocFewShot(
  ctx: EvalContext,
  options: VocFewShotOptions = {},
): Promise<EvalResult<VocFewShotMetrics>> {
  const t0 = performance.now();
  const s = withDefaults('fewshot', VOC_FEWSHOT_DEFAULTS, options);
  return ctx.dataset === 'fashion-mnist' ? runProxy(ctx, s, t0) : runVoc(ctx, s, t0);
}
