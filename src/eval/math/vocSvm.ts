/**
 * Few-shot linear SVMs, PASCAL VOC07 style (spec §9.5).
 *
 * Per class, one binary linear SVM (liblinear dual CD, squared hinge, C 0.5, class
 * weights +1→2 / −1→1, regularised bias) on L2-normalised frozen features; scored by
 * all-point average precision on the test set; mAP = mean over classes (fractions, like every result; ×100 to print).
 * "Difficult" labels (0) count as negatives in training and evaluation (spec §11.12).
 *
 * Low-shot mode: for k ∈ {1,2,4,8,16} and 5 runs, each run samples, for every class,
 * the first k of a shuffled list of that class's positive images and concatenates them
 * (an image positive for several classes may appear several times); every per-class
 * SVM sees all sampled rows with their full label vectors. One generator, seeded once
 * (spec: Python's RNG seeded with 0 once at the start), drives all runs.
 */
import { createRng, type Rng } from '../../random';
import { svmDecision, trainLinearSvm } from './linearSvm';
import { vocAveragePrecision } from './vocAp';
import { vocNormalizeRows } from './rowNorm';

export interface MultiLabelSet {
  /** Row-major features [n, dim]. */
  features: Float32Array;
  /** Row-major labels [n, numClasses] with +1 positive, −1 negative, 0 difficult. */
  labels: Int8Array | Int32Array;
}

export interface VocSvmOptions {
  dim: number;
  numClasses: number;
  /** Cost list; the best mean AP over costs is kept (spec: only 0.5 by default). */
  costs?: number[];
  seed?: number;
}

export interface VocSvmResult {
  /** Mean AP over classes (fraction; ×100 to print as the paper does). */
  mAP: number;
  /** Per-class AP (fractions). */
  aps: number[];
  cost: number;
  trainCount: number;
  testCount: number;
}

function check(set: MultiLabelSet, dim: number, numClasses: number, name: string): number {
  const n = set.features.length / dim;
  if (!Number.isInteger(n) || n === 0) {
    throw new Error(
      `${name}.features: ${set.features.length} values is not a non-empty multiple of dim ${dim}`,
    );
  }
  if (set.labels.length !== n * numClasses) {
    throw new Error(
      `${name}.labels: expected n·numClasses = ${n}·${numClasses} values, got ${set.labels.length}`,
    );
  }
  return n;
}

/** Trains the per-class SVMs on `train` and reports AP on `test` (spec §9.5 full mode). */
export function vocSvmEvaluation(
  train: MultiLabelSet,
  test: MultiLabelSet,
  o: VocSvmOptions,
): VocSvmResult {
  const { dim, numClasses } = o;
  const nTrain = check(train, dim, numClasses, 'train');
  const nTest = check(test, dim, numClasses, 'test');
  const xTrain = vocNormalizeRows(train.features, dim);
  const xTest = vocNormalizeRows(test.features, dim);
  let best: VocSvmResult | undefined;
  for (const cost of o.costs ?? [0.5]) {
    const aps: number[] = [];
    for (let c = 0; c < numClasses; c++) {
      const y = new Int8Array(nTrain);
      for (let i = 0; i < nTrain; i++) y[i] = train.labels[i * numClasses + c] > 0 ? 1 : -1;
      const svm = trainLinearSvm(xTrain, y, dim, {
        C: cost,
        classWeight: { positive: 2, negative: 1 },
        tol: 1e-4,
        maxIter: 2000,
        interceptScaling: 1,
        seed: o.seed ?? 0,
      });
      const scores = svmDecision(svm, xTest, dim);
      const truth = new Int8Array(nTest);
      for (let i = 0; i < nTest; i++) truth[i] = test.labels[i * numClasses + c] > 0 ? 1 : -1;
      aps.push(vocAveragePrecision(scores, truth));
    }
    const mAP = aps.reduce((a, b) => a + b, 0) / numClasses;
    if (!best || mAP > best.mAP) best = { mAP, aps, cost, trainCount: nTrain, testCount: nTest };
  }
  return best!;
}

/**
 * Low-shot sample (spec §9.5): for each class, shuffle its positive rows and take the
 * first k; concatenate over classes. Returns row indices into the training set.
 */
export function sampleLowShot(
  labels: ArrayLike<number>,
  numClasses: number,
  k: number,
  rng: Rng,
): Int32Array {
  const n = labels.length / numClasses;
  const picked: number[] = [];
  for (let c = 0; c < numClasses; c++) {
    const positives: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i * numClasses + c] > 0) positives.push(i);
    rng.shuffle(positives);
    picked.push(...positives.slice(0, k));
  }
  return Int32Array.from(picked);
}

export interface LowShotResult {
  k: number;
  /** mAP of each run (fractions). */
  runs: number[];
  mean: number;
  /** Population standard deviation over runs. */
  std: number;
}

/** Low-shot VOC07 SVMs: k ∈ shots × `runs` seeded runs, mean ± std of mAP (spec §9.5). */
export function lowShotVocSvm(
  train: MultiLabelSet,
  test: MultiLabelSet,
  o: VocSvmOptions & { shots?: number[]; runs?: number },
): LowShotResult[] {
  const { dim, numClasses } = o;
  check(train, dim, numClasses, 'train');
  const rng = createRng(o.seed ?? 0);
  const results: LowShotResult[] = [];
  for (const k of o.shots ?? [1, 2, 4, 8, 16]) {
    const runs: number[] = [];
    for (let r = 0; r < (o.runs ?? 5); r++) {
      const idx = sampleLowShot(train.labels, numClasses, k, rng);
      const features = new Float32Array(idx.length * dim);
      const labels = new Int8Array(idx.length * numClasses);
      idx.forEach((row, i) => {
        features.set(train.features.subarray(row * dim, (row + 1) * dim), i * dim);
        for (let c = 0; c < numClasses; c++)
          labels[i * numClasses + c] = train.labels[row * numClasses + c];
      });
      runs.push(vocSvmEvaluation({ features, labels }, test, o).mAP);
    }
    const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
    const std = Math.sqrt(runs.reduce((a, b) => a + (b - mean) ** 2, 0) / runs.length);
    results.push({ k, runs, mean, std });
  }
  return results;
}
