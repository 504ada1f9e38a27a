/**
 * Binary linear SVM as liblinear's default solver for scikit-learn's `LinearSVC`
 * (L2-regularised, squared-hinge loss, dual coordinate descent with shrinking;
 * Hsieh et al., ICML 2008, Algorithm 1 + §3.2), spec §9.5:
 *
 *   min_w ½‖w‖² + Σ_i C_i · max(0, 1 − y_i wᵀx_i)²
 *
 * with per-sample costs C_i = C · classWeight[y_i] and the bias learnt through an
 * appended constant feature of value `interceptScaling` (so the bias is regularised
 * too, liblinear's convention; spec §11.12). The dual is solved for α ≥ 0 with
 * D_ii = 1/(2C_i) added to the diagonal (squared hinge ⇒ no upper bound on α).
 *
 * The primal optimum is unique, so results match liblinear up to the stopping
 * tolerance even though liblinear's own random permutation cannot be reproduced;
 * our permutation comes from the seeded `Rng` (spec: random_state 0 → seed 0).
 */
import { createRng } from '../../random';

export interface LinearSvmOptions {
  /** Regularisation constant C (spec §9.5: 0.5). */
  C: number;
  /** Class weights: cost multiplier for positives and negatives (spec: {+1: 2, −1: 1}). */
  classWeight?: { positive: number; negative: number };
  /** Stopping tolerance on the projected-gradient gap (liblinear eps; spec 1e-4). */
  tol?: number;
  /** Maximum outer iterations (spec 2000). */
  maxIter?: number;
  /** Value of the appended bias feature (spec 1); 0 disables the bias. */
  interceptScaling?: number;
  seed?: number;
}

export interface LinearSvm {
  weights: Float64Array;
  bias: number;
  iterations: number;
  converged: boolean;
}

/**
 * Trains one binary SVM. `x` is row-major [n, dim]; `y` holds +1 / −1 (anything > 0 is
 * treated as positive, everything else as negative — spec §9.5: difficult (0) → −1).
 */
export function trainLinearSvm(
  x: Float32Array,
  y: ArrayLike<number>,
  dim: number,
  o: LinearSvmOptions,
): LinearSvm {
  const n = y.length;
  if (!(dim > 0) || x.length !== n * dim) {
    throw new Error(
      `trainLinearSvm: features have ${x.length} values, expected n·dim = ${n}·${dim}`,
    );
  }
  if (!(o.C > 0)) throw new Error(`trainLinearSvm: C must be > 0, got ${o.C}`);
  const tol = o.tol ?? 1e-4;
  const maxIter = o.maxIter ?? 2000;
  const biasFeature = o.interceptScaling ?? 1;
  const cw = o.classWeight ?? { positive: 1, negative: 1 };
  const rng = createRng(o.seed ?? 0);

  const w = new Float64Array(dim);
  let wb = 0; // weight of the appended constant feature
  const alpha = new Float64Array(n);
  const yy = new Int8Array(n);
  const diag = new Float64Array(n); // D_ii = 1 / (2 C_i)
  const qd = new Float64Array(n); // Q_ii = x_i·x_i + D_ii
  for (let i = 0; i < n; i++) {
    yy[i] = y[i] > 0 ? 1 : -1;
    const ci = o.C * (yy[i] > 0 ? cw.positive : cw.negative);
    diag[i] = 1 / (2 * ci);
    let s = biasFeature * biasFeature;
    for (let j = 0, off = i * dim; j < dim; j++) s += x[off + j] * x[off + j];
    qd[i] = s + diag[i];
  }

  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  let active = n;
  let pgMaxOld = Infinity;
  let iter = 0;
  let converged = false;
  while (iter < maxIter) {
    let pgMaxNew = -Infinity;
    let pgMinNew = Infinity;
    // Random order within the active set (liblinear swaps in a random permutation).
    for (let i = 0; i < active; i++) {
      const j = i + rng.int(active - i);
      const t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (let s = 0; s < active; s++) {
      const i = index[s];
      const off = i * dim;
      let wx = wb * biasFeature;
      for (let j = 0; j < dim; j++) wx += w[j] * x[off + j];
      const g = yy[i] * wx - 1 + diag[i] * alpha[i];
      let pg = 0;
      if (alpha[i] === 0) {
        if (g > pgMaxOld) {
          // Shrinking: this α stays at its bound; drop it from the active set.
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        } else if (g < 0) {
          pg = g;
        }
      } else {
        pg = g;
      }
      pgMaxNew = Math.max(pgMaxNew, pg);
      pgMinNew = Math.min(pgMinNew, pg);
      if (Math.abs(pg) > 1e-12) {
        const old = alpha[i];
        alpha[i] = Math.max(old - g / qd[i], 0);
        const d = (alpha[i] - old) * yy[i];
        for (let j = 0; j < dim; j++) w[j] += d * x[off + j];
        wb += d * biasFeature;
      }
    }
    iter++;
    if (pgMaxNew - pgMinNew <= tol) {
      if (active === n) {
        converged = true;
        break;
      }
      // Converged on the shrunk problem: re-check every variable once more.
      active = n;
      pgMaxOld = Infinity;
      continue;
    }
    pgMaxOld = pgMaxNew <= 0 ? Infinity : pgMaxNew;
  }
  return { weights: w, bias: wb * biasFeature, iterations: iter, converged };
}

/** Decision values wᵀx + b for row-major features [n, dim]. */
export function svmDecision(svm: LinearSvm, x: Float32Array, dim: number): Float64Array {
  const n = x.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = svm.bias;
    for (let j = 0, off = i * dim; j < dim; j++) s += svm.weights[j] * x[off + j];
    out[i] = s;
  }
  return out;
}
