/**
 * Weighted k-NN evaluation (§9.2; DINO's `knn_classifier`, as used by CARP).
 *
 * Inputs are row-major feature matrices: trainFeatures [N_train, dim] (the neighbour
 * bank), testFeatures [N_test, dim] (the queries), integer labels in [0, numClasses).
 * Rules (§9.2 and the golden README):
 *   - features are L2-normalised here (a zero row stays zero), so inner product = cosine;
 *   - for each query the k most similar bank vectors (sorted) vote for their label with
 *     weight exp(s/τ), τ = 0.07; class score = sum of weights; prediction = arg-max
 *     (ties → lowest class id);
 *   - k larger than the bank uses the whole bank (small data works);
 *   - top-5 is a hit when the true class is among the min(5, k) best-scored classes
 *     *and* received a vote (DINO's script can count tied zero-score classes, which
 *     inflates top-5 for small k).
 * One faiss inner-product search with k_max = min(max k, N_train) serves every k.
 *
 * Memory: the bank is normalised block by block straight into faiss's storage (reserved
 * once), so besides the caller's arrays we hold faiss's copy of the normalised bank
 * (N_train·dim·4 bytes: 10.5 GB for a 1.28M×2048 ImageNet bank, as much again as the
 * caller's features), one normalised block of chunk rows (chunk·dim·4: 34 MB), per query
 * chunk chunk·k_max·16 bytes of neighbours (13 MB for 4096 queries at k 200) and faiss's
 * search scratch (one 4096×1024 float similarity block, 16 MB). Peak for ImageNet
 * ≈ 2 × 10.5 GB + ~70 MB; the outputs are N_test int32 per k.
 */
import { FlatIndex } from '../../search/faiss';

export interface WeightedKnnOptions {
  trainFeatures: Float32Array;
  trainLabels: Int32Array;
  testFeatures: Float32Array;
  testLabels: Int32Array;
  dim: number;
  /** Sizes the vote vector; extra empty classes are harmless (§9.2). */
  numClasses: number;
  /** Neighbour counts to evaluate, e.g. [10, 20, 100, 200]. */
  k: number[];
  /** Softmax temperature τ (default 0.07). */
  temperature?: number;
  /** Queries per faiss search (default 4096, see Memory above; the result does not depend on it). */
  chunkSize?: number;
}

export interface KnnResult {
  /** Fraction of test points whose arg-max class is the true one. */
  top1: number;
  /** Fraction whose true class is among the 5 best-scored voted classes. */
  top5: number;
  /** Arg-max class per test point. */
  predictions: Int32Array;
}

const DEFAULT_CHUNK = 4096;

function checkLabels(labels: Int32Array, numClasses: number, field: string): void {
  if (!(labels instanceof Int32Array))
    throw new Error(`weightedKnn: ${field} must be an Int32Array`);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (c < 0 || c >= numClasses) {
      throw new Error(
        `weightedKnn: ${field}[${i}] = ${c} is outside [0, numClasses = ${numClasses})`,
      );
    }
  }
}

function checkFeatures(x: Float32Array, rows: number, dim: number, field: string): void {
  if (!(x instanceof Float32Array)) throw new Error(`weightedKnn: ${field} must be a Float32Array`);
  if (x.length !== rows * dim) {
    throw new Error(
      `weightedKnn: ${field} has length ${x.length}, expected ${rows} rows × dim ${dim} = ${rows * dim}`,
    );
  }
}

/**
 * Writes L2-normalised copies of rows [start, end) of x into out (DINO: F.normalize, eps
 * 1e-12), block by block (see Memory). A row with a NaN or infinite value is an error
 * naming it: it would otherwise score NaN against everything and vote for class 0.
 */
function normalizeRowsInto(
  x: Float32Array,
  start: number,
  end: number,
  dim: number,
  out: Float32Array,
  field: string,
): void {
  for (let i = start; i < end; i++) {
    const src = i * dim;
    const dst = (i - start) * dim;
    let s = 0;
    for (let t = 0; t < dim; t++) s += x[src + t] * x[src + t];
    if (!Number.isFinite(s))
      throw new Error(
        `weightedKnn: ${field} row ${i} holds a NaN or infinite value (the features are broken: check the network's outputs)`,
      );
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let t = 0; t < dim; t++) out[dst + t] = x[src + t] * inv;
  }
}

function validate(o: WeightedKnnOptions): void {
  if (!Number.isInteger(o.dim) || o.dim < 1)
    throw new Error(`weightedKnn: dim must be a positive integer, got ${o.dim}`);
  if (!Number.isInteger(o.numClasses) || o.numClasses < 1) {
    throw new Error(`weightedKnn: numClasses must be a positive integer, got ${o.numClasses}`);
  }
  if (!Array.isArray(o.k) || o.k.length === 0 || o.k.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new Error(
      `weightedKnn: k must be a non-empty list of positive integers, got ${JSON.stringify(o.k)}`,
    );
  }
  const tau = o.temperature ?? 0.07;
  if (!(tau > 0)) throw new Error(`weightedKnn: temperature must be > 0, got ${tau}`);
  if (o.trainLabels.length === 0)
    throw new Error('weightedKnn: trainFeatures is empty (no neighbour bank)');
  if (o.testLabels.length === 0) throw new Error('weightedKnn: testFeatures is empty (no queries)');
  checkFeatures(o.trainFeatures, o.trainLabels.length, o.dim, 'trainFeatures');
  checkFeatures(o.testFeatures, o.testLabels.length, o.dim, 'testFeatures');
  checkLabels(o.trainLabels, o.numClasses, 'trainLabels');
  checkLabels(o.testLabels, o.numClasses, 'testLabels');
}

/** Weighted k-NN accuracy for every k in `o.k` (§9.2); results keyed by the requested k. */
export function weightedKnn(o: WeightedKnnOptions): Record<number, KnnResult> {
  validate(o);
  const { dim, numClasses, trainLabels, testLabels } = o;
  const tau = o.temperature ?? 0.07;
  const chunk = o.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new Error(`weightedKnn: chunkSize must be a positive integer, got ${chunk}`);
  const nTrain = trainLabels.length;
  const nTest = testLabels.length;
  const ks = o.k.map((k) => Math.min(k, nTrain));
  const kMax = Math.max(...ks);

  const index = new FlatIndex(dim, 'ip');
  try {
    index.reserve(nTrain); // one allocation of exactly N_train·dim floats (see Memory)
    const block = new Float32Array(Math.min(nTrain, chunk) * dim);
    for (let s = 0; s < nTrain; s += chunk) {
      const e = Math.min(nTrain, s + chunk);
      normalizeRowsInto(o.trainFeatures, s, e, dim, block, 'trainFeatures');
      index.add(block.subarray(0, (e - s) * dim));
    }

    const predictions = ks.map(() => new Int32Array(nTest));
    const hits1 = ks.map(() => 0);
    const hits5 = ks.map(() => 0);
    const scores = new Float64Array(numClasses);
    const votedList = new Int32Array(kMax);
    const query = new Float32Array(Math.min(nTest, chunk) * dim);
    for (let s = 0; s < nTest; s += chunk) {
      const e = Math.min(nTest, s + chunk);
      normalizeRowsInto(o.testFeatures, s, e, dim, query, 'testFeatures');
      const r = index.search(query.subarray(0, (e - s) * dim), kMax, { chunkSize: chunk });
      for (let q = 0; q < e - s; q++) {
        const base = q * kMax;
        const label = testLabels[s + q];
        ks.forEach((k, ki) => {
          // Only the (at most k) voted classes are touched, so the cost is O(k), not O(classes).
          let nVoted = 0;
          for (let j = 0; j < k; j++) {
            const c = trainLabels[r.labels[base + j]];
            if (scores[c] === 0 && !isVoted(votedList, nVoted, c)) votedList[nVoted++] = c;
            scores[c] += Math.exp(r.distances[base + j] / tau);
          }
          const top = topClasses(scores, votedList, nVoted, Math.min(5, k));
          for (let v = 0; v < nVoted; v++) scores[votedList[v]] = 0;
          predictions[ki][s + q] = top[0];
          if (top[0] === label) hits1[ki]++;
          if (top.includes(label)) hits5[ki]++;
        });
      }
    }
    const out: Record<number, KnnResult> = {};
    o.k.forEach((k, ki) => {
      out[k] = { top1: hits1[ki] / nTest, top5: hits5[ki] / nTest, predictions: predictions[ki] };
    });
    return out;
  } finally {
    index.dispose();
  }
}

/** Whether class c is among the first n entries of list (only reached when its score is 0). */
function isVoted(list: Int32Array, n: number, c: number): boolean {
  for (let v = 0; v < n; v++) if (list[v] === c) return true;
  return false;
}

/** The up-to-m best-scored voted classes, best first (ties → lower class id). */
function topClasses(scores: Float64Array, voted: Int32Array, nVoted: number, m: number): number[] {
  const top: number[] = [];
  for (let v = 0; v < nVoted; v++) {
    const c = voted[v];
    // Insertion into a sorted list of at most m entries, ordered by (score desc, id asc).
    let pos = top.length;
    while (
      pos > 0 &&
      (scores[c] > scores[top[pos - 1]] || (scores[c] === scores[top[pos - 1]] && c < top[pos - 1]))
    )
      pos--;
    if (pos < m) {
      top.splice(pos, 0, c);
      if (top.length > m) top.pop();
    }
  }
  return top;
}
