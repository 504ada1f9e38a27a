/**
 * `limit` as a fair sample: prepared folders are often stored class by class, so "the
 * first N images" would be a few classes. A limited source is instead a seeded,
 * class-stratified subset — every class keeps a share proportional to its size (largest
 * remainders; at least one image per class when N allows), the images of a class drawn
 * by a seeded shuffle — with the rows in ascending index order. Multi-label sources get a
 * seeded random subset. The source says what it is (`subset`), so logs and result names
 * can record it.
 */
import { createRng } from '../random';
import { subsetSource, type ImageSource } from './source';

/** Indices (ascending) of a class-stratified subset of `count` rows of `labels`. */
export function stratifiedIndices(labels: Int32Array, count: number, seed: number): Int32Array {
  const n = labels.length;
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const list = byClass.get(labels[i]);
    if (list) list.push(i);
    else byClass.set(labels[i], [i]);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = quotas(
    classes.map((c) => byClass.get(c)!.length),
    count,
  );
  const rng = createRng(seed);
  const chosen: number[] = [];
  classes.forEach((c, k) => {
    const members = byClass.get(c)!;
    const order = rng.permutation(members.length);
    for (let j = 0; j < quota[k]; j++) chosen.push(members[order[j]]);
  });
  return Int32Array.from(chosen).sort();
}

/**
 * Per-class counts summing to `count`: floor of the proportional share, the rest to the
 * largest remainders (ties: lower class first); then every class gets at least one while
 * `count` allows, taken from the largest quota.
 */
export function quotas(sizes: number[], count: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  // Integer arithmetic: a remainder is (count·size) mod total, so ties are exact.
  const q = sizes.map((n) => Math.floor((count * n) / total));
  let left = count - q.reduce((a, b) => a + b, 0);
  const byRemainder = sizes
    .map((n, k) => ({ k, r: count * n - q[k] * total }))
    .sort((a, b) => b.r - a.r || a.k - b.k);
  for (const { k } of byRemainder) {
    if (left === 0) break;
    q[k]++;
    left--;
  }
  if (count >= sizes.length) {
    for (let k = 0; k < q.length; k++) {
      if (q[k] > 0) continue;
      const donor = q.indexOf(Math.max(...q));
      q[donor]--;
      q[k]++;
    }
  }
  return q;
}

/** Indices (ascending) of a seeded random subset of `count` of `n` rows. */
export function randomIndices(n: number, count: number, seed: number): Int32Array {
  return createRng(seed).permutation(n).slice(0, count).sort();
}

/**
 * `limit` rows of `s` (see the module comment); `s` itself when it has no more rows.
 * `seed` defaults to 0, so the subset does not change with the training seed.
 */
export function limitSource(s: ImageSource, limit: number, seed = 0): ImageSource {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new Error(`limit must be a positive integer, got ${limit}`);
  }
  if (limit >= s.count) return s;
  const stratified = s.labelDim === 1;
  const indices = stratified
    ? stratifiedIndices(s.labels, limit, seed)
    : randomIndices(s.count, limit, seed);
  return subsetSource(s, indices, s.split, {
    count: limit,
    of: s.count,
    seed,
    rule: stratified ? 'class-stratified' : 'random',
  });
}
