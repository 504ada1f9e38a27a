/**
 * Ranking by cosine similarity and the revisited Oxford/Paris scores (§9.7): a full
 * descending ranking of the database per query (faiss inner product on unit vectors),
 * then mAP (trapezoidal AP with junk removed, math/retrievalMap.ts) for the Medium
 * protocol (positives = easy ∪ hard, junk = junk) and the Hard protocol (positives = hard,
 * junk = junk ∪ easy), plus mean precision at 1/5/10; fractions (×100 to print as the
 * paper does).
 */
import { revisitedProtocol, type RevisitedQuery } from '../../data/revisited';
import { FlatIndex } from '../../search/faiss';
import { revisitedMeanAP, revisitedPrecisionAtK } from './retrievalMap';
import { l2NormalizeRows } from './rowNorm';

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

export interface RetrievalProtocolScore {
  /** Mean AP over queries with positives (fraction). */
  mAP: number;
  /** Mean precision at k = 1, 5, 10 (fractions). */
  precisionAt: { 1: number; 5: number; 10: number };
  /** AP per query (null where the query has no positives). */
  aps: (number | null)[];
}

export interface RetrievalResult {
  medium: RetrievalProtocolScore;
  hard: RetrievalProtocolScore;
  numQueries: number;
  databaseSize: number;
  /** Per query, database indices best first (the whole database). */
  ranking: number[][];
}

function score(
  ranking: number[][],
  { positives, junk }: { positives: number[][]; junk: number[][] },
): RetrievalProtocolScore {
  const { mAP, aps } = revisitedMeanAP(ranking, positives, junk);
  const p = revisitedPrecisionAtK(ranking, positives, junk, [1, 5, 10]).mean;
  return { mAP, precisionAt: { 1: p[0], 5: p[1], 10: p[2] }, aps };
}

/** Medium and Hard protocol scores from query/database descriptors (§9.7). */
export function retrievalEvaluation(o: {
  queryFeatures: Float32Array;
  databaseFeatures: Float32Array;
  dim: number;
  groundTruth: RevisitedQuery[];
}): RetrievalResult {
  const nq = o.queryFeatures.length / o.dim;
  if (o.groundTruth.length !== nq) {
    throw new Error(
      `retrievalEvaluation: ${nq} queries but ${o.groundTruth.length} ground-truth entries`,
    );
  }
  const ranking = rankByCosine(o.queryFeatures, o.databaseFeatures, o.dim);
  const gt = { imlist: [], qimlist: [], gnd: o.groundTruth };
  return {
    medium: score(ranking, revisitedProtocol(gt, 'medium')),
    hard: score(ranking, revisitedProtocol(gt, 'hard')),
    numQueries: nq,
    databaseSize: o.databaseFeatures.length / o.dim,
    ranking,
  };
}
