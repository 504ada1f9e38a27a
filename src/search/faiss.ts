/**
 * Exact nearest-neighbour search and k-means (§9.2 k-NN, §9.3 k-means) through faiss,
 * or through the kit's exact fallback where faiss is not available.
 *
 * faiss: the kit's own binding (native/faiss, derived from faiss-node), compiled at install
 * time against the system libfaiss; it takes `Float32Array`s without per-element copies
 * and returns typed arrays:
 *   - vectors are row-major `Float32Array`s of shape [n, dim];
 *   - `search` returns distances `Float32Array` [nq, k] and labels `Int32Array` [nq, k]
 *     (row ids in insertion order; int32 is ample for banks below 2^31 vectors, and
 *     -1 marks "no result", which exact flat indexes never produce for k ≤ ntotal).
 *
 * Fallback (binding not built, or CARP_FAISS=0; see binding.ts): the same results from
 * TypeScript — exactIndex.ts (SGEMM products on the native OpenBLAS addon or tfjs, k-heaps)
 * and exactKmeans.ts (faiss::Clustering step by step, with faiss's random numbers). One
 * warning line per process says that it is in use.
 */
import { defaultProductEngine, getProductThreads, setProductThreads } from './blockProducts';
import { faissBinding, warnFallbackOnce, type IndexEngine } from './binding';
import { ExactIndex } from './exactIndex';
import { exactKmeans } from './exactKmeans';

/** Inner product (`ip`, larger is closer) or squared Euclidean distance (`l2`). */
export type FaissMetric = 'ip' | 'l2';

/** Row-major search results for nq queries: entry q·k + j is the j-th neighbour of query q. */
export interface SearchResult {
  distances: Float32Array;
  labels: Int32Array;
  nq: number;
  k: number;
}

/** What serves k-NN and k-means now: faiss, or the exact fallback on OpenBLAS / tfjs. */
export type SearchEngineName = 'faiss' | 'exact-openblas' | 'exact-tfjs';

/** The engine the next FlatIndex / kmeansFaiss will use, and why not faiss when it is not. */
export function searchEngine(): { engine: SearchEngineName; reason?: string } {
  const { binding, reason } = faissBinding();
  if (binding) return { engine: 'faiss' };
  return {
    engine: defaultProductEngine() === 'openblas' ? 'exact-openblas' : 'exact-tfjs',
    reason,
  };
}

/** Whether the faiss binding serves searches now (tests and benchmarks that need it may skip). */
export function faissAvailable(): boolean {
  try {
    return faissBinding().binding !== undefined;
  } catch {
    return false;
  }
}

/** Says, once per process, that the fallback serves k-NN and k-means, on which engine, and why. */
function noteFallback(reason: string | undefined): void {
  const engine = defaultProductEngine();
  warnFallbackOnce(
    reason ?? 'unavailable',
    engine === 'openblas' ? 'the native OpenBLAS addon' : 'TensorFlow.js',
  );
}

function checkPositiveInt(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${field} must be a positive integer, got ${value}`);
  }
}

/** Checks a row-major [n, dim] Float32Array and returns n. */
export function rowsOf(x: Float32Array, dim: number, field: string): number {
  if (!(x instanceof Float32Array)) throw new Error(`${field} must be a Float32Array`);
  if (x.length % dim !== 0) {
    throw new Error(`${field} has length ${x.length}, not a multiple of dim ${dim}`);
  }
  return x.length / dim;
}

/**
 * Sets the threads of search and k-means (n ≥ 1): faiss's OpenMP count, and the count of
 * the fallback's OpenBLAS products.
 */
export function setFaissThreads(n: number): void {
  checkPositiveInt(n, 'setFaissThreads: n');
  faissBinding().binding?.setNumThreads(n);
  setProductThreads(n);
}

/** The thread count of search and k-means: faiss's OpenMP count, or the fallback's. */
export function getFaissThreads(): number {
  return faissBinding().binding?.getNumThreads() ?? getProductThreads();
}

/** Default queries per search call: faiss's own BLAS query block (bs_x = 4096), so
 * chunking adds no extra pass over the bank while bounding the result buffers. */
export const DEFAULT_SEARCH_CHUNK = 4096;

/** Exact (brute-force) index over dim-dimensional vectors: faiss IndexFlatIP / IndexFlatL2. */
export class FlatIndex {
  readonly dim: number;
  readonly metric: FaissMetric;
  private native: IndexEngine | null;

  constructor(dim: number, metric: FaissMetric) {
    checkPositiveInt(dim, 'FlatIndex: dim');
    if (metric !== 'ip' && metric !== 'l2') {
      throw new Error(`FlatIndex: metric must be 'ip' or 'l2', got ${String(metric)}`);
    }
    const { binding: b, reason } = faissBinding();
    this.dim = dim;
    this.metric = metric;
    if (b) {
      this.native = metric === 'ip' ? new b.IndexFlatIP(dim) : new b.IndexFlatL2(dim);
    } else {
      noteFallback(reason);
      this.native = new ExactIndex(dim, metric);
    }
  }

  private get index(): IndexEngine {
    if (!this.native) throw new Error('FlatIndex: used after dispose()');
    return this.native;
  }

  /** Number of stored vectors. */
  get ntotal(): number {
    return this.index.ntotal();
  }

  /** Appends rows of x ([n, dim], row-major); faiss copies them once into its storage. */
  add(x: Float32Array): void {
    rowsOf(x, this.dim, 'FlatIndex.add: x');
    this.index.add(x);
  }

  /**
   * The k nearest stored vectors of each query, best first (largest inner product or
   * smallest squared L2). Queries go to faiss `chunkSize` at a time and the results are
   * written straight into the output arrays, so extra memory is bounded by one chunk.
   */
  search(q: Float32Array, k: number, opts: { chunkSize?: number } = {}): SearchResult {
    const nq = rowsOf(q, this.dim, 'FlatIndex.search: queries');
    checkPositiveInt(k, 'FlatIndex.search: k');
    const ntotal = this.ntotal;
    if (k > ntotal) throw new Error(`FlatIndex.search: k = ${k} exceeds ntotal = ${ntotal}`);
    const chunk = opts.chunkSize ?? DEFAULT_SEARCH_CHUNK;
    checkPositiveInt(chunk, 'FlatIndex.search: chunkSize');
    const distances = new Float32Array(nq * k);
    const labels = new Int32Array(nq * k);
    for (let start = 0; start < nq; start += chunk) {
      const end = Math.min(nq, start + chunk);
      this.index.search(
        q.subarray(start * this.dim, end * this.dim),
        k,
        distances.subarray(start * k, end * k),
        labels.subarray(start * k, end * k),
      );
    }
    return { distances, labels, nq, k };
  }

  /**
   * Pre-sizes the storage for `n` vectors in total, so that adding a large bank in
   * blocks allocates exactly once (std::vector's doubling would transiently hold old and
   * new buffers and may keep up to twice the needed capacity).
   */
  reserve(n: number): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`FlatIndex.reserve: n must be a non-negative integer, got ${n}`);
    }
    this.index.reserve(n);
  }

  /** Frees the stored vectors now (rather than at garbage collection); the index is unusable after. */
  dispose(): void {
    this.native?.release();
    this.native = null;
  }
}

/** faiss::ClusteringParameters' defaults (faiss 1.7.3), which the fallback applies too. */
export const KMEANS_DEFAULTS = Object.freeze({
  niter: 25,
  nredo: 1,
  seed: 1234,
  maxPointsPerCentroid: 256,
  minPointsPerCentroid: 39,
});

export interface KmeansOptions {
  /** Number of clusters. */
  k: number;
  /** Iterations per run (default `KMEANS_DEFAULTS.niter`, faiss's 25). */
  niter?: number;
  /** Independent runs; the best objective is kept (default 1). */
  nredo?: number;
  /** L2-normalise centroids after each update and assign by inner product (default false). */
  spherical?: boolean;
  /** Seed of faiss's RNG for subsampling and initialisation (default 1234). */
  seed?: number;
  /** Subsample to this many points per centroid when n exceeds it (default 256). */
  maxPointsPerCentroid?: number;
  /** Below this many points per centroid faiss prints a warning (default 39). */
  minPointsPerCentroid?: number;
}

export interface KmeansResult {
  /** [k, dim] row-major. */
  centroids: Float32Array;
  /** Final objective of the kept run (sum of best inner products, or of squared L2 distances). */
  objective: number;
  /** Objective after each iteration, as faiss's iteration_stats report it. */
  objectives: Float64Array;
  /** Cluster splits (empty-cluster repairs) per iteration. */
  nsplit: Int32Array;
}

/**
 * k-means with faiss::Clustering (the engine of Python's faiss.Kmeans, same semantics:
 * subsampling to maxPointsPerCentroid·k, redo with best objective kept, empty clusters
 * re-seeded by splitting), or its step-by-step TypeScript replica (exactKmeans.ts) where
 * faiss is not available. x is [n, dim] row-major.
 */
export function kmeansFaiss(
  x: Float32Array,
  n: number,
  dim: number,
  opts: KmeansOptions,
): KmeansResult {
  checkPositiveInt(dim, 'kmeansFaiss: dim');
  checkPositiveInt(n, 'kmeansFaiss: n');
  if (rowsOf(x, dim, 'kmeansFaiss: x') !== n) {
    throw new Error(`kmeansFaiss: x has ${x.length / dim} rows, expected n = ${n}`);
  }
  checkPositiveInt(opts.k, 'kmeansFaiss: k');
  if (opts.k > n) throw new Error(`kmeansFaiss: k = ${opts.k} exceeds the number of points ${n}`);
  for (const key of ['niter', 'nredo', 'maxPointsPerCentroid', 'minPointsPerCentroid'] as const) {
    const v = opts[key];
    if (v !== undefined) checkPositiveInt(v, `kmeansFaiss: ${key}`);
  }
  if (opts.seed !== undefined && !Number.isInteger(opts.seed))
    throw new Error(`kmeansFaiss: seed must be an integer, got ${opts.seed}`);
  const params = {
    niter: opts.niter ?? KMEANS_DEFAULTS.niter,
    nredo: opts.nredo ?? KMEANS_DEFAULTS.nredo,
    spherical: opts.spherical ?? false,
    // faiss's seed is a C int.
    seed: (opts.seed ?? KMEANS_DEFAULTS.seed) | 0,
    maxPointsPerCentroid: opts.maxPointsPerCentroid ?? KMEANS_DEFAULTS.maxPointsPerCentroid,
    minPointsPerCentroid: opts.minPointsPerCentroid ?? KMEANS_DEFAULTS.minPointsPerCentroid,
  };
  const { binding, reason } = faissBinding();
  let r: { centroids: Float32Array; objectives: Float64Array; nsplit: Int32Array };
  if (binding) {
    r = binding.kmeans(x, dim, opts.k, { ...params, verbose: false });
  } else {
    noteFallback(reason);
    r = exactKmeans(x, n, dim, opts.k, params);
  }
  const objective = r.objectives.length > 0 ? r.objectives[r.objectives.length - 1] : 0;
  return { centroids: r.centroids, objective, objectives: r.objectives, nsplit: r.nsplit };
}
