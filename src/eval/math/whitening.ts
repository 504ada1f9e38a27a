/**
 * The whitening of the copy-detection protocol (§9.8), learnt on a set of unrelated
 * images: μ = mean feature, Σ = FᵀF / n from the **uncentred** features (kept as the
 * reference does, §11.14), eigenvalues below 1e-5·λ_max clamped up to that value, all
 * components kept in descending order, x' = diag(λ^−½)·Uᵀ·(x − μ).
 */
import { symmetricEigen } from './symmetricEigen';

export interface Whitening {
  dim: number;
  mean: Float64Array;
  /** Row-major [dim, dim] projection P = diag(λ^−½)·Uᵀ. */
  projection: Float64Array;
  eigenvalues: Float64Array;
}

/** Learns the §9.8 whitening from row-major features [n, dim]. */
export function learnWhitening(features: Float32Array, dim: number): Whitening {
  const n = features.length / dim;
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(
      `learnWhitening: need at least 2 rows of dim ${dim}, got ${features.length} values`,
    );
  }
  const mean = new Float64Array(dim);
  const cov = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    for (let i = 0; i < dim; i++) {
      const xi = features[off + i];
      mean[i] += xi / n;
      if (xi === 0) continue;
      for (let j = i; j < dim; j++) cov[i * dim + j] += xi * features[off + j];
    }
  }
  for (let i = 0; i < dim; i++) {
    for (let j = i; j < dim; j++) {
      cov[i * dim + j] /= n;
      cov[j * dim + i] = cov[i * dim + j];
    }
  }
  const { values, vectors } = symmetricEigen(cov, dim);
  const floor = 1e-5 * values[0];
  const eigenvalues = values.map((v) => Math.max(v, floor));
  const projection = new Float64Array(dim * dim);
  for (let c = 0; c < dim; c++) {
    const s = 1 / Math.sqrt(eigenvalues[c]);
    for (let k = 0; k < dim; k++) projection[c * dim + k] = s * vectors[k * dim + c];
  }
  return { dim, mean, projection, eigenvalues };
}

/** Applies a whitening to row-major features [n, dim] (returns float32). */
export function applyWhitening(x: Float32Array, w: Whitening): Float32Array {
  const { dim, mean, projection } = w;
  const n = x.length / dim;
  const out = new Float32Array(x.length);
  const centred = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < dim; k++) centred[k] = x[r * dim + k] - mean[k];
    for (let c = 0; c < dim; c++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += projection[c * dim + k] * centred[k];
      out[r * dim + c] = s;
    }
  }
  return out;
}
