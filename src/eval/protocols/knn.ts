/**
 * Weighted k-NN (§9.2): the bank is the training split's features, the queries the test
 * split's; T-eval with a bicubic resize; cosine similarity; each of the k nearest votes
 * with exp(s/τ). The maths is `weightedKnn` (math/knn.ts).
 */
import { evalSplits, materialize, openDataset } from '../../data/datasets';
import { weightedKnn } from '../math/knn';
import type { EvalContext } from '../context';
import { pixelFeatures } from '../extractors';
import type { EvalResult } from '../results';
import { bankAndQueries } from '../splitFeatures';
import { recordResult, withDefaults } from './record';

/** §9.2 settings: every k the reference prints, τ = 0.07, bicubic T-eval. */
export const KNN_DEFAULTS = {
  k: [10, 20, 100, 200] as number[],
  temperature: 0.07,
  filter: 'bicubic' as const,
};
export type KnnOptions = Partial<typeof KNN_DEFAULTS>;

export interface KnnMetrics {
  /** Per k: top-1 and top-5 (fractions). */
  [k: string]: { top1: number; top5: number };
}

/** The k-NN result plus the predictions of each k (in test-split order). */
export type KnnRun = EvalResult<KnnMetrics> & { predictions: Record<string, Int32Array> };

/** Runs §9.2 on `ctx.dataset` and writes `eval/knn-<dataset>….json`. */
export async function runKnn(ctx: EvalContext, options: KnnOptions = {}): Promise<KnnRun> {
  const t0 = performance.now();
  const settings = withDefaults('knn', KNN_DEFAULTS, options);
  const { bank, queries, numClasses, splitNames } = await bankAndQueries(ctx, settings.filter);
  const { metrics, predictions } = knnVotes(bank.set, queries.set, numClasses, settings);
  const result = await recordResult(ctx, {
    protocol: 'knn',
    defaults: KNN_DEFAULTS,
    settings: { ...settings, dim: bank.set.dim },
    splits: { [splitNames.bank]: bank.set.count, [splitNames.query]: queries.set.count },
    metrics,
    t0,
  });
  return { ...result, predictions };
}

/** What `runPixelKnn` returns: the k-NN metrics of raw pixels and the predictions of each k. */
export interface PixelKnnRun {
  metrics: KnnMetrics;
  predictions: Record<string, Int32Array>;
  /** Bank and query sizes, named by split. */
  splits: Record<string, number>;
  settings: { k: number[]; temperature: number; dim: number };
}

/**
 * §9.2 on raw pixels scaled to [0, 1] (`pixelFeatures`), no network at all: the same
 * splits, cosine similarity and exp(s/τ) votes as `runKnn`, so it is the floor a learned
 * representation has to clear on this dataset. Nothing is written (there are no weights
 * to file a result under).
 */
export async function runPixelKnn(
  o: { dataset: string; limit?: number | null },
  options: Omit<KnnOptions, 'filter'> = {},
): Promise<PixelKnnRun> {
  const { filter: _f, ...defaults } = KNN_DEFAULTS;
  const settings = withDefaults('knn', defaults, options);
  const names = evalSplits(o.dataset);
  const read = async (split: string) => {
    const source = await openDataset(o.dataset, split, { limit: o.limit });
    try {
      return { set: await pixelFeatures(await materialize(source)), classes: source.classes };
    } finally {
      await source.close();
    }
  };
  const bank = await read(names.bank);
  const queries = await read(names.query);
  const numClasses = Math.max(bank.classes.length, queries.classes.length);
  const { metrics, predictions } = knnVotes(bank.set, queries.set, numClasses, settings);
  return {
    metrics,
    predictions,
    splits: { [names.bank]: bank.set.count, [names.query]: queries.set.count },
    settings: { ...settings, dim: bank.set.dim },
  };
}

/** Feature rows with their labels (a `FeatureSet`, learned or of pixels). */
interface LabelledRows {
  features: Float32Array;
  labels: Int32Array;
  dim: number;
}

/** The votes of every k (`weightedKnn`), split into the metrics and each k's predictions. */
function knnVotes(
  bank: LabelledRows,
  queries: LabelledRows,
  numClasses: number,
  settings: { k: number[]; temperature: number },
): { metrics: KnnMetrics; predictions: Record<string, Int32Array> } {
  const res = weightedKnn({
    trainFeatures: bank.features,
    trainLabels: bank.labels,
    testFeatures: queries.features,
    testLabels: queries.labels,
    dim: bank.dim,
    numClasses,
    k: settings.k,
    temperature: settings.temperature,
  });
  const metrics: KnnMetrics = {};
  const predictions: Record<string, Int32Array> = {};
  for (const [k, v] of Object.entries(res)) {
    metrics[k] = { top1: v.top1, top5: v.top5 };
    predictions[k] = v.predictions;
  }
  return { metrics, predictions };
}
