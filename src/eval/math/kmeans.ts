/**
 * k-means clustering evaluation (spec §9.3).
 *
 * Features are raw pooled vectors, row-major [N, dim] (not L2-normalised). Steps:
 *   1. standardise each dimension with the mean and population std fitted on the k-means
 *      training features, and apply the same transform to the evaluation features;
 *   2. spherical k-means with faiss semantics (faiss::Clustering, the engine of
 *      faiss.Kmeans in the reference): subsample to 256·k points when n is larger,
 *      nredo runs (seed 1234 + 1 + r·15 486 557 inside faiss) keeping the highest
 *      objective, assignment by max inner product with unit-norm centroids, update = mean
 *      then L2 normalisation, empty clusters split by faiss; defaults niter 100, nredo 10,
 *      seed 1234 (the reference script);
 *   3. prediction for an evaluation point = arg-max inner product with the kept centroids
 *      (the point itself is not normalised).
 * With evaluation labels, the metrics of §9.3 (NMI, AMI, ARI, FMS, homogeneity,
 * completeness, V-measure, + Hungarian accuracy) come from `clusteringMetrics`.
 */
import { FlatIndex, kmeansFaiss, rowsOf } from '../../search/faiss';
import { type ClusteringMetrics, clusteringMetrics } from './clusteringMetrics';

/** Per-dimension mean and population standard deviation, fitted on training features. */
export interface Standardizer {
  mean: Float64Array;
  std: Float64Array;
}

function checkDim(dim: number, where: string): void {
  if (!Number.isInteger(dim) || dim < 1)
    throw new Error(`${where}: dim must be a positive integer, got ${dim}`);
}

/**
 * Fits mean and population std (divide by N) per dimension, accumulated in float64.
 * A constant dimension gets std 1 (as scikit-learn's StandardScaler) instead of a
 * division by zero [JUDGEMENT: the reference would produce NaN there].
 */
export function fitStandardizer(x: Float32Array, dim: number): Standardizer {
  checkDim(dim, 'fitStandardizer');
  const n = rowsOf(x, dim, 'fitStandardizer: x');
  if (n === 0) throw new Error('fitStandardizer: x is empty');
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) mean[t] += x[i * dim + t];
  for (let t = 0; t < dim; t++) mean[t] /= n;
  // Two-pass variance: no cancellation for large offsets.
  for (let i = 0; i < n; i++)
    for (let t = 0; t < dim; t++) {
      const d = x[i * dim + t] - mean[t];
      std[t] += d * d;
    }
  for (let t = 0; t < dim; t++) {
    const s = Math.sqrt(std[t] / n);
    std[t] = s > 0 ? s : 1;
  }
  return { mean, std };
}

/** (x − mean) / std per dimension; returns a new [N, dim] Float32Array. */
export function applyStandardizer(x: Float32Array, dim: number, s: Standardizer): Float32Array {
  checkDim(dim, 'applyStandardizer');
  const n = rowsOf(x, dim, 'applyStandardizer: x');
  if (s.mean.length !== dim || s.std.length !== dim) {
    throw new Error(
      `applyStandardizer: standardizer has ${s.mean.length} dims, expected dim ${dim}`,
    );
  }
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < dim; t++) out[i * dim + t] = (x[i * dim + t] - s.mean[t]) / s.std[t];
  return out;
}

/** Standardises train and evaluation features with statistics of the train features (spec §9.3). */
export function standardize(
  train: Float32Array,
  test: Float32Array,
  dim: number,
): { train: Float32Array; test: Float32Array } & Standardizer {
  const s = fitStandardizer(train, dim);
  return { train: applyStandardizer(train, dim, s), test: applyStandardizer(test, dim, s), ...s };
}

export interface SphericalKmeansOptions {
  numClusters: number;
  /** Iterations per run (default 100, spec §9.3). */
  niter?: number;
  /** Runs; the highest objective is kept (default 10). */
  nredo?: number;
  /** faiss seed (default 1234). */
  seed?: number;
  /** faiss subsamples to this many points per cluster (default 256). */
  maxPointsPerCentroid?: number;
  /** Below this many points per cluster faiss prints a warning (default 39). */
  minPointsPerCentroid?: number;
}

/** Spherical k-means through faiss; x is [N, dim]. Returns unit-norm centroids [k, dim]. */
export function sphericalKmeans(x: Float32Array, dim: number, o: SphericalKmeansOptions) {
  checkDim(dim, 'sphericalKmeans');
  const n = rowsOf(x, dim, 'sphericalKmeans: x');
  if (!Number.isInteger(o.numClusters) || o.numClusters < 1 || o.numClusters > n) {
    throw new Error(
      `sphericalKmeans: numClusters must be an integer in [1, ${n}] (the point count), got ${o.numClusters}`,
    );
  }
  return kmeansFaiss(x, n, dim, {
    k: o.numClusters,
    niter: o.niter ?? 100,
    nredo: o.nredo ?? 10,
    seed: o.seed ?? 1234,
    spherical: true,
    maxPointsPerCentroid: o.maxPointsPerCentroid ?? 256,
    minPointsPerCentroid: o.minPointsPerCentroid,
  });
}

/** Cluster id per row of x: arg-max inner product with the centroids. */
export function assignToCentroids(
  x: Float32Array,
  dim: number,
  centroids: Float32Array,
): Int32Array {
  checkDim(dim, 'assignToCentroids');
  rowsOf(x, dim, 'assignToCentroids: x');
  const k = rowsOf(centroids, dim, 'assignToCentroids: centroids');
  if (k === 0) throw new Error('assignToCentroids: centroids is empty');
  const index = new FlatIndex(dim, 'ip');
  try {
    index.add(centroids);
    return index.search(x, 1).labels;
  } finally {
    index.dispose();
  }
}

export interface KmeansEvaluationOptions extends SphericalKmeansOptions {
  /** k-means training features [N_train, dim] (raw, not normalised). */
  trainFeatures: Float32Array;
  /** Evaluation features [N_test, dim]. */
  testFeatures: Float32Array;
  dim: number;
  /** Ground-truth classes of the evaluation points; when given, `metrics` is filled. */
  testLabels?: ArrayLike<number>;
}

export interface KmeansEvaluationResult {
  /** Cluster id of each evaluation point. */
  assignments: Int32Array;
  /** Unit-norm centroids [numClusters, dim] in the standardised space. */
  centroids: Float32Array;
  /** Objective of the kept run (sum of best inner products over the points faiss used). */
  objective: number;
  /** How many training points faiss clustered: min(N_train, 256·k) (spec §9.3). */
  trainPointsUsed: number;
  standardizer: Standardizer;
  /** Clustering metrics vs `testLabels` (fractions), when labels were given. */
  metrics?: ClusteringMetrics;
}

/** The spec §9.3 protocol: standardise, spherical k-means, assign; metrics when labels are given. */
export function kmeansEvaluation(o: KmeansEvaluationOptions): KmeansEvaluationResult {
  checkDim(o.dim, 'kmeansEvaluation');
  const nTrain = rowsOf(o.trainFeatures, o.dim, 'kmeansEvaluation: trainFeatures');
  const nTest = rowsOf(o.testFeatures, o.dim, 'kmeansEvaluation: testFeatures');
  if (nTrain === 0) throw new Error('kmeansEvaluation: trainFeatures is empty');
  if (nTest === 0) throw new Error('kmeansEvaluation: testFeatures is empty');
  if (o.testLabels !== undefined && o.testLabels.length !== nTest) {
    throw new Error(
      `kmeansEvaluation: testLabels has ${o.testLabels.length} entries, expected ${nTest} (one per test row)`,
    );
  }
  const s = standardize(o.trainFeatures, o.testFeatures, o.dim);
  const km = sphericalKmeans(s.train, o.dim, o);
  const assignments = assignToCentroids(s.test, o.dim, km.centroids);
  const maxPer = o.maxPointsPerCentroid ?? 256;
  return {
    assignments,
    centroids: km.centroids,
    objective: km.objective,
    trainPointsUsed: Math.min(nTrain, maxPer * o.numClusters),
    standardizer: { mean: s.mean, std: s.std },
    metrics: o.testLabels !== undefined ? clusteringMetrics(o.testLabels, assignments) : undefined,
  };
}
