/**
 * The first result that means something: the trained teacher's weighted k-NN (§9.2) beside
 * the two baselines it has to beat on the same protocol — a randomly initialised network
 * of the same architecture with its batch-norm statistics re-estimated on training images
 * (a fair random baseline, train/randomTeacher.ts), and raw pixels with no network at all.
 * Used by `carp quickstart` and the notebooks, so both print the same comparison.
 */
import { join } from 'node:path';
import type { CarpConfig } from '../config/schema';
import { evalSplits, openDataset } from '../data/datasets';
import { evalTransform } from '../eval/context';
import { KNN_DEFAULTS, runKnn, runPixelKnn, type KnnMetrics } from '../eval/protocols/knn';
import type { LoadedTeacher } from '../interop/loadTeacher';
import { randomInitTeacher, reestimateBatchNorm } from '../train/randomTeacher';

/** Training images whose batch statistics the random baseline's BN layers get (seeded, class-stratified). */
export const BN_REESTIMATE_IMAGES = 10_000;

/** One set of features evaluated. */
export interface KnnBaselineRow {
  /** What was evaluated: `CARP teacher`, `random init (BN re-estimated)`, `raw pixels`. */
  features: string;
  metrics: KnnMetrics;
  /** Arg-max class per query, per k (test-split order). */
  predictions: Record<string, Int32Array>;
}

export interface KnnBaselines {
  /** The trained teacher, the random baseline, raw pixels — in that order. */
  rows: KnnBaselineRow[];
  /** Bank and query sizes, named by split (60 000 / 10 000 on full Fashion-MNIST). */
  splits: Record<string, number>;
  /** The neighbour counts evaluated. */
  k: number[];
  /** Seconds of the whole comparison (feature extraction included). */
  seconds: number;
}

/**
 * Runs §9.2 on `dataset` (default: the run's own) for the trained `teacher`, the fair
 * random baseline and raw pixels. `limit` evaluates a seeded class-stratified subset of
 * each split (quick runs; the results are then partial); null is the standard protocol.
 * The teacher's and the baseline's results are written under `runDir` (`eval/`, and
 * `baseline-random-init/eval/`); raw pixels have no weights and are only returned.
 */
export async function knnBaselines(o: {
  teacher: LoadedTeacher;
  config: CarpConfig;
  runDir: string;
  dataset?: string;
  limit?: number | null;
  k?: number[];
}): Promise<KnnBaselines> {
  const t0 = performance.now();
  const dataset = o.dataset ?? o.config.data.dataset;
  const limit = o.limit ?? null;
  const k = o.k ?? KNN_DEFAULTS.k;
  const trained = await runKnn({ teacher: o.teacher, runDir: o.runDir, dataset, limit }, { k });

  const random = randomInitTeacher(o.config);
  let baseline;
  try {
    const bnLimit = Math.min(limit ?? Infinity, BN_REESTIMATE_IMAGES);
    const source = await openDataset(dataset, evalSplits(dataset).bank, { limit: bnLimit });
    try {
      const t = evalTransform(random, { height: source.height, width: source.width });
      await reestimateBatchNorm(random, source, t.fn);
    } finally {
      await source.close();
    }
    baseline = await runKnn(
      { teacher: random, runDir: join(o.runDir, 'baseline-random-init'), dataset, limit },
      { k },
    );
  } finally {
    random.params.dispose();
  }
  const pixels = await runPixelKnn({ dataset, limit }, { k });
  return {
    rows: [
      { features: 'CARP teacher', metrics: trained.metrics, predictions: trained.predictions },
      {
        features: 'random init (BN re-estimated)',
        metrics: baseline.metrics,
        predictions: baseline.predictions,
      },
      { features: 'raw pixels', metrics: pixels.metrics, predictions: pixels.predictions },
    ],
    splits: trained.splits,
    k,
    seconds: (performance.now() - t0) / 1000,
  };
}
