/**
 * k-NN search as tensor ops (cosine similarity by matMul, then top-k), the part of the
 * weighted k-NN protocol (§9.2) that a GPU can take over from faiss. The check
 * times it on webgpu and compares a small case with the CPU backend.
 */
import { tf } from '../../../src/backend/tf';
import type { Tensor2D } from '../../../src/backend/tf';

/** Row-wise L2 normalisation (a zero row stays zero, as in src/eval/knn.ts). */
export function normaliseRows(x: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)) as Tensor2D);
}

/**
 * Top-k bank rows per query: `bank` [N, D] and `queries` [Q, D], both L2-normalised.
 * Queries go in chunks so the [chunk, N] similarity block stays bounded.
 */
export async function knnSearch(
  bank: Tensor2D,
  queries: Tensor2D,
  k: number,
  chunk: number,
): Promise<{ indices: Int32Array; similarities: Float32Array }> {
  const q = queries.shape[0];
  const kk = Math.min(k, bank.shape[0]);
  const indices = new Int32Array(q * kk);
  const similarities = new Float32Array(q * kk);
  for (let start = 0; start < q; start += chunk) {
    const n = Math.min(chunk, q - start);
    const { values, idx } = tf.tidy(() => {
      const block = tf.slice(queries, [start, 0], [n, -1]);
      const sim = tf.matMul(block, bank, false, true);
      const top = tf.topk(sim, kk, true);
      return { values: top.values, idx: top.indices };
    });
    const [v, i] = await Promise.all([values.data(), idx.data()]);
    similarities.set(v as Float32Array, start * kk);
    indices.set(i as Int32Array, start * kk);
    tf.dispose([values, idx]);
  }
  return { indices, similarities };
}

/** Seeded random unit vectors `[n, dim]` (tf's seeded normal: identical on every backend). */
export function randomUnitRows(n: number, dim: number, seed: number): Tensor2D {
  return tf.tidy(() => normaliseRows(tf.randomNormal([n, dim], 0, 1, 'float32', seed) as Tensor2D));
}
