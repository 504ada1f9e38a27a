/**
 * Average precision of one VOC class (spec §9.5): all-point interpolated AP (VOC 2010+),
 * not the 11-point variant. Difficult examples (label 0) are negatives, as in the
 * reference (§11.12).
 */

/**
 * AP of `scores` against `labels` (> 0 positive; 0 and −1 negative).
 *
 * Sort by score descending; precision/recall at every rank; recall padded with 0 in
 * front and 1 at the end, precision with 0 at both ends; precision enveloped from the
 * right (p_i ← max(p_i, p_{i+1})); AP = Σ over recall changes of Δrecall × precision.
 *
 * Judgement calls (pinned by tests): equal scores keep their input order (stable sort;
 * the reference's `argsort` leaves ties unspecified); with no positive label AP is
 * undefined and NaN is returned (the reference divides by zero).
 */
export function vocAveragePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) {
    throw new Error(`vocAveragePrecision: ${n} scores but ${labels.length} labels`);
  }
  let numPositives = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(scores[i])) throw new Error(`vocAveragePrecision: scores[${i}] is NaN`);
    if (labels[i] > 0) numPositives++;
  }
  if (numPositives === 0) return NaN;

  const order = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => scores[j] - scores[i] || i - j,
  );
  // mrec/mpre with the padding of spec §9.5: index 0 and n + 1 are the added ends.
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  let tp = 0;
  for (let r = 0; r < n; r++) {
    if (labels[order[r]] > 0) tp++;
    mrec[r + 1] = tp / numPositives;
    mpre[r + 1] = tp / (r + 1);
  }
  mrec[n + 1] = 1;
  for (let i = n; i >= 0; i--) mpre[i] = Math.max(mpre[i], mpre[i + 1]);
  let ap = 0;
  for (let i = 0; i <= n; i++) {
    if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  }
  return ap;
}
