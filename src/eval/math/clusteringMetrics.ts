/**
 * Clustering metrics of the k-means protocol (spec §9.3) and the prototype-cluster
 * protocol (§9.4), with scikit-learn's definitions and special cases (arithmetic-mean
 * normalisation for NMI/AMI, EMI under the permutation model, β = 1 V-measure), plus
 * the Hungarian-matched accuracy the official code lacks ([JUDGEMENT], §11.10).
 *
 * Everything is computed from the sparse contingency table (only non-zero cells), so
 * 65 536 prototype "clusters" against 1 000 classes cost O(N) memory.
 */
import { maxWeightMatching } from './linearAssignment';

/** All fractions in [0, 1] (AMI and ARI can be slightly negative for worse-than-chance). */
export interface ClusteringMetrics {
  nmi: number;
  ami: number;
  ari: number;
  fowlkesMallows: number;
  homogeneity: number;
  completeness: number;
  vMeasure: number;
  /** Best one-to-one cluster→class mapping (linear assignment), matched / N. */
  accuracy: number;
}

interface Contingency {
  n: number;
  /** Class sizes a_i (rows). */
  a: Float64Array;
  /** Cluster sizes b_j (columns). */
  b: Float64Array;
  /** Non-zero cells: row, column, count. */
  rows: Int32Array;
  cols: Int32Array;
  counts: Float64Array;
}

/** Maps arbitrary label values to 0..m−1 in order of first appearance. */
function encode(values: ArrayLike<number>, what: string): { codes: Int32Array; size: number } {
  const index = new Map<number, number>();
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (typeof x !== 'number' || Number.isNaN(x)) {
      throw new Error(`clusteringMetrics: ${what}[${i}] is not a number (${x})`);
    }
    let code = index.get(x);
    if (code === undefined) index.set(x, (code = index.size));
    codes[i] = code;
  }
  return { codes, size: index.size };
}

function contingency(labels: ArrayLike<number>, assignments: ArrayLike<number>): Contingency {
  const n = labels.length;
  const true_ = encode(labels, 'labels');
  const pred = encode(assignments, 'assignments');
  const a = new Float64Array(true_.size);
  const b = new Float64Array(pred.size);
  const cells = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const r = true_.codes[i];
    const c = pred.codes[i];
    a[r]++;
    b[c]++;
    const key = r * pred.size + c;
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  const rows = new Int32Array(cells.size);
  const cols = new Int32Array(cells.size);
  const counts = new Float64Array(cells.size);
  let k = 0;
  for (const [key, count] of cells) {
    rows[k] = Math.floor(key / pred.size);
    cols[k] = key % pred.size;
    counts[k++] = count;
  }
  return { n, a, b, rows, cols, counts };
}

/** Entropy (nats) of a labelling from its class sizes; 0 for a single class (sklearn). */
function entropy(sizes: Float64Array, n: number): number {
  if (sizes.length <= 1) return 0;
  let h = 0;
  for (const s of sizes) h -= (s / n) * (Math.log(s) - Math.log(n));
  return h;
}

/** ln k! for k = 0..n: exact sums for small k, Stirling's series (error < 1e-17 rel) above. */
function logFactorials(n: number): Float64Array {
  const table = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) {
    if (k < 32) {
      table[k] = table[k - 1] + Math.log(k);
    } else {
      const k2 = k * k;
      table[k] =
        k * Math.log(k) -
        k +
        0.5 * Math.log(2 * Math.PI * k) +
        (1 / (12 * k)) * (1 - (1 / (30 * k2)) * (1 - (2 / (7 * k2)) * (1 - 3 / (4 * k2))));
    }
  }
  return table;
}

/**
 * Expected mutual information under the permutation model (spec §9.3), evaluated with
 * log-factorials exactly as scikit-learn's `expected_mutual_information`.
 */
function expectedMutualInformation(a: Float64Array, b: Float64Array, n: number): number {
  if (a.length === 1 || b.length === 1) return 0; // a zero-entropy labelling
  const lf = logFactorials(n);
  const logN = Math.log(n);
  const logB = Float64Array.from(b, Math.log);
  const lfB = Float64Array.from(b, (bj) => lf[bj] + lf[n - bj] - lf[n]);
  let emi = 0;
  for (const ai of a) {
    const logA = Math.log(ai);
    const lfA = lf[ai] + lf[n - ai];
    for (let j = 0; j < b.length; j++) {
      const bj = b[j];
      const lo = Math.max(1, ai + bj - n);
      const hi = Math.min(ai, bj);
      const constant = lfA + lfB[j];
      const logAB = logA + logB[j];
      for (let nij = lo; nij <= hi; nij++) {
        const logP = constant - lf[nij] - lf[ai - nij] - lf[bj - nij] - lf[n - ai - bj + nij];
        emi += (nij / n) * (logN + Math.log(nij) - logAB) * Math.exp(logP);
      }
    }
  }
  return emi;
}

/**
 * NMI, AMI, ARI, Fowlkes–Mallows, homogeneity, completeness, V-measure and matched
 * accuracy of `assignments` against ground-truth `labels` (spec §9.3; scikit-learn
 * semantics, incl. its limit cases: both labellings a single cluster → NMI = AMI = 1;
 * a single predicted cluster → completeness 1, homogeneity 0).
 *
 * @param labels ground-truth class per point (any numbers; only equality matters).
 * @param assignments cluster id per point, same length.
 */
export function clusteringMetrics(
  labels: ArrayLike<number>,
  assignments: ArrayLike<number>,
): ClusteringMetrics {
  if (labels.length !== assignments.length) {
    throw new Error(
      `clusteringMetrics: ${labels.length} labels but ${assignments.length} assignments`,
    );
  }
  if (labels.length === 0) throw new Error('clusteringMetrics: no points');
  const t = contingency(labels, assignments);
  const { n, a, b, counts } = t;

  // Mutual information, clipped at 0 like sklearn (rounding can make it −1e-17).
  let mi = 0;
  for (let k = 0; k < counts.length; k++) {
    const nij = counts[k];
    mi +=
      (nij / n) * (Math.log(nij) + Math.log(n) - Math.log(a[t.rows[k]]) - Math.log(b[t.cols[k]]));
  }
  mi = Math.max(mi, 0);
  const hTrue = entropy(a, n);
  const hPred = entropy(b, n);
  const mean = (hTrue + hPred) / 2;
  const bothTrivial = a.length === 1 && b.length === 1;

  const nmi = bothTrivial ? 1 : mi === 0 ? 0 : mi / mean;

  let ami = 1;
  if (!bothTrivial) {
    const emi = expectedMutualInformation(a, b, n);
    let denominator = mean - emi;
    // sklearn: keep the sign, avoid 0/0 when the expectation equals the maximum.
    denominator =
      denominator < 0
        ? Math.min(denominator, -Number.EPSILON)
        : Math.max(denominator, Number.EPSILON);
    ami = (mi - emi) / denominator;
  }

  // Pair counts (ordered pairs, as sklearn's pair_confusion_matrix).
  let sumSquares = 0;
  for (const nij of counts) sumSquares += nij * nij;
  let sumA2 = 0;
  for (const x of a) sumA2 += x * x;
  let sumB2 = 0;
  for (const x of b) sumB2 += x * x;
  const tp = sumSquares - n;
  const fp = sumB2 - sumSquares; // same cluster, different class
  const fn = sumA2 - sumSquares; // same class, different cluster
  const tn = n * n - fp - fn - sumSquares;
  const ari =
    fn === 0 && fp === 0
      ? 1
      : (2 * (tp * tn - fn * fp)) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
  const pk = sumB2 - n;
  const qk = sumA2 - n;
  const fowlkesMallows = tp !== 0 ? Math.sqrt(tp / pk) * Math.sqrt(tp / qk) : 0;

  const homogeneity = hTrue ? mi / hTrue : 1;
  const completeness = hPred ? mi / hPred : 1;
  const vMeasure =
    homogeneity + completeness === 0
      ? 0
      : (2 * homogeneity * completeness) / (homogeneity + completeness);

  // Rows = the smaller side keeps the number of augmentations low.
  const byClass = a.length <= b.length;
  const matching = byClass
    ? maxWeightMatching(a.length, b.length, t.rows, t.cols, counts)
    : maxWeightMatching(b.length, a.length, t.cols, t.rows, counts);
  const accuracy = matching.total / n;

  return { nmi, ami, ari, fowlkesMallows, homogeneity, completeness, vMeasure, accuracy };
}
