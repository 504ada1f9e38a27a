/**
 * Copy detection (spec §9.8, INRIA Copydays protocol).
 *
 * Features: images resized to 320×320 (aspect not kept, bicubic), pooled backbone feature.
 * Optional whitening learnt on a distractor set: μ = mean whitening feature, Σ = FᵀF / n
 * from the **uncentred** whitening features (kept as the reference does, spec §11.14),
 * eigenvalues below 1e-5·λ_max clamped up to that value, all components kept in
 * descending order, x' = diag(λ^−½)·Uᵀ·(x − μ). Then L2-normalise, cosine similarity,
 * top 20 database items per query; AP per query over the returned list (trapezoidal, §9.7)
 * with n_pos = number of positives; mAP per block.
 */
import { revisitedMeanAP } from './retrievalMap';
import { rankByCosine } from './ranking';
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

export interface CopyDetectionBlock {
  /** Block name, e.g. `strong`, `jpegqual/50`, `crops/30`. */
  name: string;
  /** Row-major query features [nq, dim]. */
  queryFeatures: Float32Array;
  /** Per query, database indices of its originals. */
  positives: number[][];
}

export interface CopyDetectionResult {
  /** mAP per block (fractions). */
  blocks: Record<string, number>;
  whitened: boolean;
  databaseSize: number;
  topK: number;
}

/** Copy-detection mAP per block (spec §9.8). */
export function copyDetectionEvaluation(o: {
  databaseFeatures: Float32Array;
  dim: number;
  blocks: CopyDetectionBlock[];
  whitening?: Whitening;
  topK?: number;
}): CopyDetectionResult {
  const topK = o.topK ?? 20;
  const white = (x: Float32Array) => (o.whitening ? applyWhitening(x, o.whitening) : x);
  const db = white(o.databaseFeatures);
  const blocks: Record<string, number> = {};
  for (const b of o.blocks) {
    const nq = b.queryFeatures.length / o.dim;
    if (b.positives.length !== nq) {
      throw new Error(
        `copyDetectionEvaluation: block ${b.name} has ${nq} queries but ${b.positives.length} positive lists`,
      );
    }
    const ranking = rankByCosine(white(b.queryFeatures), db, o.dim, topK);
    blocks[b.name] = revisitedMeanAP(
      ranking,
      b.positives,
      b.positives.map(() => []),
    ).mAP;
  }
  return { blocks, whitened: !!o.whitening, databaseSize: db.length / o.dim, topK };
}
