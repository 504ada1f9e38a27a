/**
 * Revisited Oxford/Paris mean average precision with junk handling (spec §9.7), as the
 * `compute_map` routine of the revisited benchmark (used by DINO and CARP): junk images
 * are removed from the ranking, AP uses the trapezoidal rule, queries without positives
 * are skipped. Medium protocol: positives = easy ∪ hard, junk = junk; Hard protocol:
 * positives = hard, junk = junk ∪ easy — the caller builds the lists.
 */

function checkLists(
  ranking: number[][],
  positives: number[][],
  junk: number[][],
  what: string,
): void {
  if (positives.length !== ranking.length || junk.length !== ranking.length) {
    throw new Error(
      `${what}: ${ranking.length} rankings, ${positives.length} positive lists, ${junk.length} junk lists`,
    );
  }
}

/**
 * 0-based ranks of a query's positives after removing the junk ranked before each
 * (spec §9.7), in increasing order. An item listed both as positive and junk counts as
 * a positive at its own rank and as junk for the positives after it, exactly as the
 * reference's `np.in1d` + merge loop do.
 */
function adjustedPositiveRanks(ranking: number[], positives: number[], junk: number[]): number[] {
  const isPositive = new Set(positives);
  const isJunk = new Set(junk);
  const ranks: number[] = [];
  let junkBefore = 0;
  for (let r = 0; r < ranking.length; r++) {
    if (isPositive.has(ranking[r])) ranks.push(r - junkBefore);
    if (isJunk.has(ranking[r])) junkBefore++;
  }
  return ranks;
}

/**
 * AP per query and mAP over the queries that have positives (fractions; ×100 to report).
 *
 * AP = Σ_j ½·(prec0_j + prec1_j) / n_pos with adjusted ranks r_j, prec0_j = j / r_j
 * (1 when r_j = 0) and prec1_j = (j + 1)/(r_j + 1); n_pos = positives[q].length.
 *
 * @param ranking per query, database indices best first (full ranking).
 * @param positives per query, database indices of the positives.
 * @param junk per query, database indices to ignore.
 * @returns `aps[q]` null where query q has no positives; mAP NaN if no query has any.
 */
export function revisitedMeanAP(
  ranking: number[][],
  positives: number[][],
  junk: number[][],
): { mAP: number; aps: (number | null)[] } {
  checkLists(ranking, positives, junk, 'revisitedMeanAP');
  const aps: (number | null)[] = [];
  let sum = 0;
  let counted = 0;
  for (let q = 0; q < ranking.length; q++) {
    const numPositives = positives[q].length;
    if (numPositives === 0) {
      aps.push(null);
      continue;
    }
    const ranks = adjustedPositiveRanks(ranking[q], positives[q], junk[q]);
    let ap = 0;
    ranks.forEach((r, j) => {
      const precision0 = r === 0 ? 1 : j / r;
      const precision1 = (j + 1) / (r + 1);
      ap += (precision0 + precision1) / 2 / numPositives;
    });
    aps.push(ap);
    sum += ap;
    counted++;
  }
  return { mAP: counted > 0 ? sum / counted : NaN, aps };
}

/**
 * Precision at k on the junk-adjusted ranking, as the revisited benchmark prints it
 * (spec §9.7: k = 1, 5, 10). Its definition, kept: with p the 1-based adjusted ranks of
 * the positives, k_q = min(max p, k) and precision = #{p ≤ k_q} / k_q — so a query
 * whose last positive is at rank 3 scores 1 at k = 5. A query whose positives never
 * appear in the ranking scores 0 (the reference would fail on max of an empty list).
 *
 * @returns `mean[i]` over the queries with positives for `ks[i]`; `perQuery[q]` null
 *   where query q has no positives.
 */
export function revisitedPrecisionAtK(
  ranking: number[][],
  positives: number[][],
  junk: number[][],
  ks: number[] = [1, 5, 10],
): { mean: number[]; perQuery: (number[] | null)[] } {
  checkLists(ranking, positives, junk, 'revisitedPrecisionAtK');
  for (const k of ks) {
    if (!Number.isInteger(k) || k < 1)
      throw new Error(`revisitedPrecisionAtK: k must be a positive integer, got ${k}`);
  }
  const mean = new Array<number>(ks.length).fill(0);
  const perQuery: (number[] | null)[] = [];
  let counted = 0;
  for (let q = 0; q < ranking.length; q++) {
    if (positives[q].length === 0) {
      perQuery.push(null);
      continue;
    }
    const ranks = adjustedPositiveRanks(ranking[q], positives[q], junk[q]).map((r) => r + 1);
    const last = ranks.length > 0 ? ranks[ranks.length - 1] : 0;
    const row = ks.map((k) => {
      const kq = Math.min(last, k);
      return kq === 0 ? 0 : ranks.filter((r) => r <= kq).length / kq;
    });
    row.forEach((p, i) => (mean[i] += p));
    perQuery.push(row);
    counted++;
  }
  return { mean: mean.map((s) => (counted > 0 ? s / counted : NaN)), perQuery };
}
