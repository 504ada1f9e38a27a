/**
 * The offline stand-in for the few-shot VOC07 benchmark (§9.5): `fmnist-fewshot-proxy`,
 * evaluated by eval/protocols/fewShotVoc.ts with the §9.5 rules unchanged. Fashion-MNIST
 * stands in for VOC07 as a multi-label set with one-hot ±1 labels over its 10 classes
 * (no "difficult" zeros).
 *
 * Sets [JUDGEMENT]: the low-shot pool ("trainval") is a seeded class-balanced subset of
 * the Fashion-MNIST train split, 500 per class by default (5 000 images, about VOC07
 * trainval's 5 011), so that only the pool's features need extracting (the sampling
 * reads labels only, but the SVMs need the features of every row that can be drawn).
 * The test set is the Fashion-MNIST test split (all 10 000 by default, or a seeded
 * subset).
 */
import type { ImageDataset } from '../dataset';
import { subsetDataset } from '../dataset';
import { createRng } from '../../random';
import { sampleKPerClass } from '../classSampling';

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
  const name = FMNIST_FEWSHOT_PROXY;
  return {
    train: subsetDataset(train, trainIndices, { name, split: 'pool' }),
    test: subsetDataset(test, testIndices, { name, split: 'test' }),
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
