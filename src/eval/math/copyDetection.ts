/**
 * Copy-detection scores (§9.8): optional whitening (./whitening.ts), L2 normalisation,
 * cosine similarity, the top 20 database items per query; AP per query over the returned
 * list (trapezoidal, as §9.7) with n_pos = the number of positives; mAP per block.
 */
import { revisitedMeanAP } from './retrievalMap';
import { rankByCosine } from './ranking';
import { applyWhitening, type Whitening } from './whitening';

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
