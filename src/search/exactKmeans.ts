/**
 * k-means with faiss::Clustering's semantics (faiss 1.7.3, faiss/Clustering.cpp), in
 * TypeScript on the exact index (exactIndex.ts): the fallback behind `kmeansFaiss` where
 * the faiss binding is not built. Step by step as faiss, with its random numbers
 * (faissRandom.ts), so that both start from the same centroids:
 *   - more than k·maxPointsPerCentroid points: train on the first k·max of
 *     rand_perm(n, seed) (fewer than k·minPointsPerCentroid: faiss's warning line);
 *   - n = k: the centroids are the points (one iteration record with objective 0);
 *   - each redo r: initial centroids = points rand_perm(n, seed + 1 + r·15486557)[0..k),
 *     then niter × { assign (arg-max inner product when spherical, else arg-min squared
 *     L2), objective = float32 sum of the assignment scores, centroids = float32 means,
 *     empty clusters split from a large one (RandomGenerator(1234) each iteration),
 *     unit-normalise when spherical };
 *   - nredo > 1 keeps the redo with the best final objective (strictly better only) and
 *     the iteration records accumulated up to it, as faiss does.
 */
import type { ProductEngine } from './blockProducts';
import { ExactIndex } from './exactIndex';
import { FaissRandom, randPerm } from './faissRandom';

/** faiss::ClusteringParameters, all set (the caller fills faiss's defaults). */
export interface ExactKmeansParams {
  niter: number;
  nredo: number;
  spherical: boolean;
  seed: number;
  maxPointsPerCentroid: number;
  minPointsPerCentroid: number;
}

export interface ExactKmeansResult {
  centroids: Float32Array;
  objectives: Float64Array;
  imbalance: Float64Array;
  nsplit: Int32Array;
}

interface IterationRecord {
  obj: number;
  imbalance: number;
  nsplit: number;
}

/** "a bit above machine epsilon for float16" (faiss). */
const SPLIT_EPS = 1 / 1024;

function imbalanceFactor(assign: Int32Array, k: number): number {
  const hist = new Float64Array(k);
  for (let i = 0; i < assign.length; i++) hist[assign[i]]++;
  let tot = 0;
  let uf = 0;
  for (let i = 0; i < k; i++) {
    tot += hist[i];
    uf += hist[i] * hist[i];
  }
  return (uf * k) / (tot * tot);
}

/** faiss's fvec_renorm_L2 on every row: x ·= float(1 / sqrtf(‖x‖²)) when ‖x‖ > 0. */
export function renormRows(c: Float32Array, dim: number): void {
  for (let i = 0; i < c.length / dim; i++) {
    let s = 0;
    for (let t = 0; t < dim; t++) s += c[i * dim + t] * c[i * dim + t];
    const nr = Math.fround(s);
    if (nr > 0) {
      const inv = Math.fround(1 / Math.fround(Math.sqrt(nr)));
      for (let t = 0; t < dim; t++) c[i * dim + t] = Math.fround(c[i * dim + t] * inv);
    }
  }
}

/** compute_centroids: float32 sums in point order, then ·= float(1 / count). */
function computeCentroids(
  x: Float32Array,
  assign: Int32Array,
  dim: number,
  k: number,
  c: Float32Array,
  hassign: Float32Array,
): void {
  c.fill(0);
  for (let i = 0; i < assign.length; i++) {
    const ci = assign[i];
    hassign[ci] += 1;
    // Float32Array stores round each sum to float32, as faiss's float accumulation.
    for (let t = 0; t < dim; t++) c[ci * dim + t] += x[i * dim + t];
  }
  for (let ci = 0; ci < k; ci++) {
    if (hassign[ci] === 0) continue;
    const norm = Math.fround(1 / hassign[ci]);
    for (let t = 0; t < dim; t++) c[ci * dim + t] = Math.fround(c[ci * dim + t] * norm);
  }
}

/** split_clusters: each empty cluster takes a perturbed copy of a cluster picked ∝ its size. */
function splitClusters(
  dim: number,
  k: number,
  n: number,
  hassign: Float32Array,
  c: Float32Array,
): number {
  let nsplit = 0;
  const rng = new FaissRandom(1234);
  for (let ci = 0; ci < k; ci++) {
    if (hassign[ci] !== 0) continue;
    let cj = 0;
    for (; ; cj = (cj + 1) % k) {
      // float p = (hassign[cj] − 1.0) / (float)(n − k): a double quotient stored as float.
      const p = Math.fround((hassign[cj] - 1) / (n - k));
      if (rng.randFloat() < p) break;
    }
    c.copyWithin(ci * dim, cj * dim, (cj + 1) * dim);
    for (let t = 0; t < dim; t++) {
      const up = t % 2 === 0;
      c[ci * dim + t] = Math.fround(c[ci * dim + t] * (up ? 1 + SPLIT_EPS : 1 - SPLIT_EPS));
      c[cj * dim + t] = Math.fround(c[cj * dim + t] * (up ? 1 - SPLIT_EPS : 1 + SPLIT_EPS));
    }
    hassign[ci] = hassign[cj] / 2;
    hassign[cj] -= hassign[ci];
    nsplit++;
  }
  return nsplit;
}

/**
 * faiss::Clustering::train on x ([n, dim] row-major, finite) with the given parameters;
 * see the module comment. `engine` forces the product engine (tests).
 */
export function exactKmeans(
  x: Float32Array,
  n: number,
  dim: number,
  k: number,
  p: ExactKmeansParams,
  engine?: ProductEngine,
): ExactKmeansResult {
  if (n < k) throw new Error(`kmeans: ${n} training points are fewer than k = ${k} clusters`);
  for (let i = 0; i < n * dim; i++)
    if (!Number.isFinite(x[i])) throw new Error(`kmeans: input contains NaN or Inf (at ${i})`);

  let data = x;
  let nx = n;
  if (n > k * p.maxPointsPerCentroid) {
    const perm = randPerm(n, p.seed);
    nx = k * p.maxPointsPerCentroid;
    data = new Float32Array(nx * dim);
    for (let i = 0; i < nx; i++) data.set(x.subarray(perm[i] * dim, (perm[i] + 1) * dim), i * dim);
  } else if (n < k * p.minPointsPerCentroid) {
    process.stderr.write(
      `WARNING clustering ${n} points to ${k} centroids: please provide at least ${k * p.minPointsPerCentroid} training points\n`,
    );
  }

  if (nx === k) {
    // faiss copies the caller's first k rows (x_in, not the subsample) and records one
    // fake iteration.
    return {
      centroids: x.slice(0, k * dim),
      objectives: Float64Array.of(0),
      imbalance: Float64Array.of(1),
      nsplit: Int32Array.of(0),
    };
  }

  const records: IterationRecord[] = [];
  let best: { obj: number; centroids: Float32Array; records: IterationRecord[] } | null = null;
  const assign = new Int32Array(nx);
  const dis = new Float32Array(nx);
  let c = new Float32Array(k * dim);
  // The assignment index (faiss: IndexFlatIP when spherical, else IndexFlatL2), reused.
  const index = new ExactIndex(dim, p.spherical ? 'ip' : 'l2', engine);
  for (let redo = 0; redo < p.nredo; redo++) {
    c = new Float32Array(k * dim);
    const perm = randPerm(nx, p.seed + 1 + redo * 15486557);
    for (let i = 0; i < k; i++) c.set(data.subarray(perm[i] * dim, (perm[i] + 1) * dim), i * dim);
    if (p.spherical) renormRows(c, dim);

    let obj = 0;
    for (let it = 0; it < p.niter; it++) {
      index.reset();
      index.add(c);
      index.search(data, 1, dis, assign);
      obj = 0;
      for (let j = 0; j < nx; j++) obj = Math.fround(obj + dis[j]);
      const hassign = new Float32Array(k);
      computeCentroids(data, assign, dim, k, c, hassign);
      const nsplit = splitClusters(dim, k, nx, hassign, c);
      records.push({ obj, imbalance: imbalanceFactor(assign, k), nsplit });
      if (p.spherical) renormRows(c, dim);
    }
    if (p.nredo > 1) {
      const better = best === null || (p.spherical ? obj > best.obj : obj < best.obj);
      if (better) best = { obj, centroids: c.slice(), records: records.slice() };
    }
  }
  index.release();
  const kept = best ?? { centroids: c, records };
  return {
    centroids: kept.centroids,
    objectives: Float64Array.from(kept.records, (r) => r.obj),
    imbalance: Float64Array.from(kept.records, (r) => r.imbalance),
    nsplit: Int32Array.from(kept.records, (r) => r.nsplit),
  };
}
