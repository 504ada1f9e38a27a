/**
 * Benchmark result rows. Each scenario measures our figure and, in
 * the same process/session, the peer's figure, so the ratio is meaningful on a noisy
 * shared machine; absolute times are not compared across runs.
 */
export interface BenchRow {
  /** Scenario id, e.g. `knn-50k x512-10k-k20`. */
  scenario: string;
  /** What the figure measures and its unit, e.g. `seconds (add+search)` or `images/s`. */
  unit: string;
  /** Whether bigger is better (throughput) or smaller is better (time). */
  higherIsBetter: boolean;
  ours: number;
  /** The peer's figure measured in the same run, or null when the peer is absent. */
  peer: number | null;
  /** The peer's name, e.g. `python3-faiss 1.7.3`. */
  peerName: string;
  /** ours/peer for throughput, peer/ours for time: > 1 means we are faster. Null without a peer. */
  speedRatio: number | null;
  /** tfjs backend (or `faiss`) used for our figure. */
  backend: string;
  /** Free-form notes: peer skipped and why, threads, sizes. */
  notes: string[];
}

/** `1 thread`, `2 threads`. */
export const threadWord = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;

/** Computes the speed ratio (>1 = ours faster) for a row's figures. */
export function speedRatio(
  ours: number,
  peer: number | null,
  higherIsBetter: boolean,
): number | null {
  if (peer === null || !(peer > 0) || !(ours > 0)) return null;
  return higherIsBetter ? ours / peer : peer / ours;
}
