/**
 * Image retrieval (spec §9.7, revisited Oxford/Paris protocol).
 *
 * Descriptor: for scales s ∈ {1, 1/√2, 1/2}, bilinearly resize the normalised image,
 * take the pooled backbone feature, sum over scales, divide by 3, L2-normalise. No PCA,
 * whitening or GeM. Ranking: cosine similarity (inner product of unit vectors) between
 * every query and database descriptor, full descending ranking per query.
 * Scores: mAP (trapezoidal AP with junk removed) for the Medium protocol (positives =
 * easy ∪ hard, junk = junk) and the Hard protocol (positives = hard, junk = junk ∪ easy),
 * plus mean precision at 1/5/10, reported as fractions (×100 to print as the paper does).
 */
import { tf } from '../../backend/tf';
import type { Tensor2D, Tensor4D } from '../../backend/tf';
import { multiScaleResize, RETRIEVAL_SCALES } from '../../data/evalTransforms';
import { backboneFeatures, type CarpNetworkSpec } from '../../models/multiCrop';
import type { ParamStore } from '../../models/params';
import { FlatIndex } from '../../search/faiss';
import { revisitedMeanAP, revisitedPrecisionAtK } from './retrievalMap';

/** Multi-scale global descriptor `[B, D]`, unit norm, of a normalised batch (spec §9.7). */
export function multiScaleDescriptor(
  params: ParamStore,
  spec: Pick<CarpNetworkSpec, 'backbone'>,
  x: Tensor4D,
  scales: number[] = RETRIEVAL_SCALES,
): Tensor2D {
  return tf.tidy(() => {
    const resized = multiScaleResize(x, scales);
    const feats = resized.map((r) => backboneFeatures(params, spec, r, { training: false }));
    const mean = tf.div(tf.addN(feats), scales.length) as Tensor2D;
    return tf.div(mean, tf.maximum(tf.norm(mean, 'euclidean', 1, true), 1e-12)) as Tensor2D;
  });
}

/** L2-normalises rows of a row-major [n, dim] array (copy). */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let off = 0; off < x.length; off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[off + j] * x[off + j];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let j = 0; j < dim; j++) out[off + j] = x[off + j] * inv;
  }
  return out;
}

/**
 * Ranks the database for each query by cosine similarity (faiss inner product on unit
 * vectors); `topK` defaults to the full database.
 */
export function rankByCosine(
  queries: Float32Array,
  database: Float32Array,
  dim: number,
  topK?: number,
): number[][] {
  const index = new FlatIndex(dim, 'ip');
  try {
    index.add(l2NormalizeRows(database, dim));
    const k = Math.min(topK ?? index.ntotal, index.ntotal);
    const { labels, nq } = index.search(l2NormalizeRows(queries, dim), k);
    return Array.from({ length: nq }, (_, q) => Array.from(labels.subarray(q * k, (q + 1) * k)));
  } finally {
    index.dispose();
  }
}

/** Revisited ground truth of one query (database indices). */
export interface RevisitedGroundTruth {
  easy: number[];
  hard: number[];
  junk: number[];
}

export interface RetrievalProtocolScore {
  /** Mean AP over queries with positives (fraction). */
  mAP: number;
  /** Mean precision at k = 1, 5, 10 (fractions). */
  precisionAt: { 1: number; 5: number; 10: number };
  aps: (number | null)[];
}

export interface RetrievalResult {
  medium: RetrievalProtocolScore;
  hard: RetrievalProtocolScore;
  numQueries: number;
  databaseSize: number;
}

function score(
  ranking: number[][],
  positives: number[][],
  junk: number[][],
): RetrievalProtocolScore {
  const { mAP, aps } = revisitedMeanAP(ranking, positives, junk);
  const p = revisitedPrecisionAtK(ranking, positives, junk, [1, 5, 10]).mean;
  return { mAP, precisionAt: { 1: p[0], 5: p[1], 10: p[2] }, aps };
}

/** Medium and Hard protocol scores from query/database descriptors (spec §9.7). */
export function retrievalEvaluation(o: {
  queryFeatures: Float32Array;
  databaseFeatures: Float32Array;
  dim: number;
  groundTruth: RevisitedGroundTruth[];
}): RetrievalResult {
  const nq = o.queryFeatures.length / o.dim;
  if (o.groundTruth.length !== nq) {
    throw new Error(
      `retrievalEvaluation: ${nq} queries but ${o.groundTruth.length} ground-truth entries`,
    );
  }
  const ranking = rankByCosine(o.queryFeatures, o.databaseFeatures, o.dim);
  const gt = o.groundTruth;
  return {
    medium: score(
      ranking,
      gt.map((g) => [...g.easy, ...g.hard]),
      gt.map((g) => g.junk),
    ),
    hard: score(
      ranking,
      gt.map((g) => g.hard),
      gt.map((g) => [...g.junk, ...g.easy]),
    ),
    numQueries: nq,
    databaseSize: o.databaseFeatures.length / o.dim,
  };
}
