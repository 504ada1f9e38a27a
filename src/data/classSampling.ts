/**
 * Seeded per-class subsets of single-label data: the few-shot draws of §9.6 (k images per
 * class) and the proxy benchmarks built from Fashion-MNIST.
 */
import type { Rng } from '../random';

/**
 * Rows of a k-per-class subset: for each class c (ascending), shuffle its rows and keep
 * the first k (all of them if the class has fewer). Labels are single class indices.
 */
export function sampleKPerClass(
  labels: ArrayLike<number>,
  numClasses: number,
  k: number,
  rng: Rng,
): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`sampleKPerClass: k must be ≥ 1, got ${k}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < numClasses))
      throw new Error(`sampleKPerClass: label ${c} at row ${i} is outside [0, ${numClasses})`);
    byClass[c].push(i);
  }
  const picked: number[] = [];
  for (const rows of byClass) picked.push(...rng.shuffle(rows).slice(0, k));
  return Int32Array.from(picked);
}
