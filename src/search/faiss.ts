/**
 * Exact nearest-neighbour search and k-means through faiss (§9.2 k-NN, §9.3 k-means).
 *
 * The only module that imports `faiss-node` (architecture §2.2). The binding is compiled by
 * `environment/faiss/build.mjs` against Debian's libfaiss 1.7.3, patched so that it takes
 * `Float32Array`s without per-element copies and returns typed arrays:
 *   - vectors are row-major `Float32Array`s of shape [n, dim];
 *   - `search` returns distances `Float32Array` [nq, k] and labels `Int32Array` [nq, k]
 *     (row ids in insertion order; int32 is ample for banks below 2^31 vectors, and
 *     -1 marks "no result", which exact flat indexes never produce for k ≤ ntotal).
 *
 * Threads (architecture §7.1): OpenBLAS (pthreads) and faiss's OpenMP loops oversubscribe
 * the cores when both spawn a thread per core: measured here, L2 search took twice as
 * long. OpenBLAS reads `OPENBLAS_NUM_THREADS` once, when the library loads, so we set it
 * to 1 before loading the binding unless the user already chose a value; parallelism
 * then comes from faiss's OpenMP, controlled by `setFaissThreads` (default: all cores).
 */

/** Inner product (`ip`, larger is closer) or squared Euclidean distance (`l2`). */
export type FaissMetric = 'ip' | 'l2';

/** Row-major search results for nq queries: entry q·k + j is the j-th neighbour of query q. */
export interface SearchResult {
  distances: Float32Array;
  labels: Int32Array;
  nq: number;
  k: number;
}

interface NativeIndex {
  add(x: Float32Array): void;
  search(
    q: Float32Array,
    k: number,
    outD?: Float32Array,
    outI?: Int32Array,
  ): { distances: Float32Array; labels: Int32Array };
  ntotal(): number;
  getDimension(): number;
  release(): void;
  reserve(n: number): void;
}

interface NativeKmeans {
  centroids: Float32Array;
  objectives: Float64Array;
  imbalance: Float64Array;
  nsplit: Int32Array;
}

interface FaissBinding {
  IndexFlatIP: new (d: number) => NativeIndex;
  IndexFlatL2: new (d: number) => NativeIndex;
  kmeans(x: Float32Array, d: number, k: number, params: Record<string, unknown>): NativeKmeans;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  carpPatched?: number;
}

let binding: FaissBinding | undefined;

/** Loads the patched binding once; throws a one-line instruction when it is missing. */
function faiss(): FaissBinding {
  if (binding) return binding;
  if (process.env.OPENBLAS_NUM_THREADS === undefined) process.env.OPENBLAS_NUM_THREADS = '1';
  let b: FaissBinding;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    b = require('faiss-node') as FaissBinding;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new Error(`faiss-node binding not loadable (${why}); run environment/setup.sh`);
  }
  if (b.carpPatched !== 1 || typeof b.kmeans !== 'function') {
    throw new Error(
      'faiss-node is the stock binding (no typed arrays / k-means); run environment/setup.sh to build the patched one',
    );
  }
  binding = b;
  return b;
}

/** Whether the patched faiss binding loads (for tests and benchmarks that may skip). */
export function faissAvailable(): boolean {
  try {
    faiss();
    return true;
  } catch {
    return false;
  }
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

/** Sets faiss's OpenMP thread count (search, k-means); n ≥ 1. */
export function setFaissThreads(n: number): void {
  checkPositiveInt(n, 'setFaissThreads: n');
  faiss().setNumThreads(n);
}

/** faiss's current OpenMP thread count. */
export function getFaissThreads(): number {
  return faiss().getNumThreads();
}

/** Default queries per search call: faiss's own BLAS query block (bs_x = 4096), so
 * chunking adds no extra pass over the bank while bounding the result buffers. */
export const DEFAULT_SEARCH_CHUNK = 4096;

/** Exact (brute-force) index over dim-dimensional vectors: faiss IndexFlatIP / IndexFlatL2. */
export class FlatIndex {
  readonly dim: number;
  readonly metric: FaissMetric;
  private native: NativeIndex | null;

  constructor(dim: number, metric: FaissMetric) {
    checkPositiveInt(dim, 'FlatIndex: dim');
    if (metric !== 'ip' && metric !== 'l2') {
      throw new Error(`FlatIndex: metric must be 'ip' or 'l2', got ${String(metric)}`);
    }
    const b = faiss();
    this.dim = dim;
    this.metric = metric;
    this.native = metric === 'ip' ? new b.IndexFlatIP(dim) : new b.IndexFlatL2(dim);
  }

  private get index(): NativeIndex {
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

export interface KmeansOptions {
  /** Number of clusters. */
  k: number;
  /** Iterations per run (faiss default 25). */
  niter?: number;
  /** Independent runs; faiss keeps the best objective (default 1). */
  nredo?: number;
  /** L2-normalise centroids after each update and assign by inner product (default false). */
  spherical?: boolean;
  /** faiss's RNG seed for subsampling and initialisation (default 1234). */
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
 * re-seeded by splitting). x is [n, dim] row-major.
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
  const params: Record<string, unknown> = { spherical: opts.spherical ?? false, verbose: false };
  for (const key of ['niter', 'nredo', 'maxPointsPerCentroid', 'minPointsPerCentroid'] as const) {
    const v = opts[key];
    if (v !== undefined) {
      checkPositiveInt(v, `kmeansFaiss: ${key}`);
      params[key] = v;
    }
  }
  if (opts.seed !== undefined) {
    if (!Number.isInteger(opts.seed)) throw new Error(`kmeansFaiss: seed must be an integer`);
    params.seed = opts.seed | 0;
  }
  const r = faiss().kmeans(x, dim, opts.k, params);
  const objective = r.objectives.length > 0 ? r.objectives[r.objectives.length - 1] : 0;
  return { centroids: r.centroids, objective, objectives: r.objectives, nsplit: r.nsplit };
}
