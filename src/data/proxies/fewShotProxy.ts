/**
 * Offline proxy of the few-shot VOC07 SVM protocol (spec §9.5): `fmnist-fewshot-proxy`.
 *
 * Fashion-MNIST stands in for VOC07 as a multi-label set with one-hot ±1 labels over its
 * 10 classes (no "difficult" zeros); everything else is the §9.5 protocol unchanged:
 * per-class linear SVMs (`lowShotVocSvm`: liblinear dual CD, C 0.5, class weights 2/1,
 * rows divided by ‖x‖ + 1e-5), k ∈ {1, 2, 4, 8, 16} × 5 runs from one generator seeded
 * with 0, mean ± std of mAP.
 *
 * Sets [JUDGEMENT]: the low-shot pool ("trainval") is a seeded class-balanced subset of
 * the Fashion-MNIST train split, 500 per class by default (5 000 images, about VOC07
 * trainval's 5 011), so that only the pool's features need extracting (the sampling
 * reads labels only, but the SVMs need the features of every row that can be drawn).
 * The test set is the Fashion-MNIST test split (all 10 000 by default, or a seeded
 * subset). Metrics are fractions (DESIGN.md §3.1), not the % `lowShotVocSvm` returns.
 */
import type { ImageDataset } from '../dataset';
import { subsetDataset } from '../dataset';
import { loadFashionMnist } from '../fashionMnist';
import { createRng } from '../../random';
import type { FeatureSet } from '../../eval/features';
import { lowShotVocSvm } from '../../eval/math/vocSvm';
import { sampleKPerClass } from '../../eval/math/linearClassifier';
import { createEvalResult, type EvalResult } from '../../eval/results';
import { extractChecked, secondsSince, type FeatureExtractor } from '../../eval/extractors';

export const FMNIST_FEWSHOT_PROXY = 'fmnist-fewshot-proxy';

export interface FewShotProxyOptions {
  /** Pool images per class drawn from the train split (default 500). */
  poolPerClass?: number;
  /** Test images (default: the whole test split); fewer → a seeded subset. */
  testCount?: number;
  /** Seed of the pool and test subsets (default 0). */
  seed?: number;
}

export interface FewShotProxySets {
  /** The low-shot pool (rows in ascending train index order). */
  train: ImageDataset;
  test: ImageDataset;
  /** Indices into the train split of the pool rows. */
  trainIndices: Int32Array;
  /** Indices into the test split of the test rows. */
  testIndices: Int32Array;
  numClasses: number;
}

/** Deterministic pool and test sets of the proxy (no model involved). */
export function buildFewShotProxy(
  train: ImageDataset,
  test: ImageDataset,
  o: FewShotProxyOptions = {},
): FewShotProxySets {
  const numClasses = train.classes.length;
  if ((train.labelDim ?? 1) !== 1 || (test.labelDim ?? 1) !== 1) {
    throw new Error('buildFewShotProxy: train and test must be single-label datasets');
  }
  if (test.classes.length !== numClasses) {
    throw new Error(
      `buildFewShotProxy: test has ${test.classes.length} classes, train ${numClasses}`,
    );
  }
  const rng = createRng(o.seed ?? 0);
  const poolPerClass = o.poolPerClass ?? 500;
  const trainIndices = sampleKPerClass(train.labels, numClasses, poolPerClass, rng).sort();
  const testCount = o.testCount ?? test.count;
  if (!Number.isInteger(testCount) || testCount < 1 || testCount > test.count) {
    throw new Error(`buildFewShotProxy: testCount must be in [1, ${test.count}], got ${testCount}`);
  }
  const testIndices =
    testCount === test.count
      ? Int32Array.from({ length: test.count }, (_, i) => i)
      : rng.permutation(test.count).slice(0, testCount).sort();
  const tag = (d: ImageDataset, split: string): ImageDataset => ({
    ...d,
    name: FMNIST_FEWSHOT_PROXY,
    split,
  });
  return {
    train: tag(subsetDataset(train, trainIndices), 'pool'),
    test: tag(subsetDataset(test, testIndices), 'test'),
    trainIndices,
    testIndices,
    numClasses,
  };
}

/** Class indices → VOC-style one-hot ±1 label rows `[n, numClasses]`. */
export function plusMinusOneHot(labels: ArrayLike<number>, numClasses: number): Int8Array {
  const out = new Int8Array(labels.length * numClasses).fill(-1);
  for (let i = 0; i < labels.length; i++) out[i * numClasses + labels[i]] = 1;
  return out;
}

export interface FewShotProxyMetrics {
  /** Per k: mean mAP over runs, population std, and each run's mAP (fractions). */
  lowShot: Record<string, { mAP: number; std: number; runs: number[] }>;
}

/** Runs the low-shot SVMs on given pool/test features with their class labels. */
export function fewShotProxyFromFeatures(
  train: FeatureSet,
  test: FeatureSet,
  o: { numClasses: number; shots?: number[]; runs?: number; seed?: number },
): FewShotProxyMetrics {
  if (train.dim !== test.dim) {
    throw new Error(`fewShotProxy: train dim ${train.dim} != test dim ${test.dim}`);
  }
  const results = lowShotVocSvm(
    { features: train.features, labels: plusMinusOneHot(train.labels, o.numClasses) },
    { features: test.features, labels: plusMinusOneHot(test.labels, o.numClasses) },
    { dim: train.dim, numClasses: o.numClasses, shots: o.shots, runs: o.runs, seed: o.seed ?? 0 },
  );
  const lowShot: FewShotProxyMetrics['lowShot'] = {};
  for (const r of results) {
    lowShot[String(r.k)] = {
      mAP: r.mean,
      std: r.std,
      runs: r.runs,
    };
  }
  return { lowShot };
}

export interface FewShotProxyEvaluationOptions extends FewShotProxyOptions {
  extract: FeatureExtractor;
  /** Identifies the weights behind `extract` (written into the result). */
  checkpoint: string;
  /** Splits to use (default: Fashion-MNIST train/test from `loadFashionMnist`). */
  trainSplit?: ImageDataset;
  testSplit?: ImageDataset;
  /** Shots (default [1, 2, 4, 8, 16]) and runs per shot (default 5). */
  shots?: number[];
  runs?: number;
  /** Seed of the low-shot sampling (spec: 0). */
  samplingSeed?: number;
}

/** Builds the proxy, extracts features, runs the low-shot SVMs: the `fewshot` result. */
export async function fewShotProxyEvaluation(
  o: FewShotProxyEvaluationOptions,
): Promise<EvalResult<FewShotProxyMetrics>> {
  const t0 = performance.now();
  const sets = buildFewShotProxy(
    o.trainSplit ?? loadFashionMnist('train'),
    o.testSplit ?? loadFashionMnist('test'),
    o,
  );
  const train = await extractChecked(o.extract, sets.train, 'the few-shot pool');
  const test = await extractChecked(o.extract, sets.test, 'the few-shot test set');
  // Labels come from the builder, never from what the extractor echoes back.
  const metrics = fewShotProxyFromFeatures(
    { ...train, labels: sets.train.labels, labelDim: 1 },
    { ...test, labels: sets.test.labels, labelDim: 1 },
    { numClasses: sets.numClasses, shots: o.shots, runs: o.runs, seed: o.samplingSeed },
  );
  return createEvalResult({
    protocol: 'fewshot',
    dataset: FMNIST_FEWSHOT_PROXY,
    proxy: true,
    splits: { pool: sets.train.count, test: sets.test.count },
    settings: {
      poolPerClass: o.poolPerClass ?? 500,
      seed: o.seed ?? 0,
      samplingSeed: o.samplingSeed ?? 0,
      shots: o.shots ?? [1, 2, 4, 8, 16],
      runs: o.runs ?? 5,
      cost: 0.5,
      classWeights: { positive: 2, negative: 1 },
      labels: 'one-hot ±1 over the 10 Fashion-MNIST classes',
      dim: train.dim,
    },
    metrics,
    seconds: secondsSince(t0),
    checkpoint: o.checkpoint,
  });
}
