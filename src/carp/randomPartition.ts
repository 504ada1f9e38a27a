/**
 * The random-partition pretext task (spec §3): every micro-step draws a fresh partition
 * of the K prototypes into N_p = floor(K / P) blocks of P, shared by all views and all
 * images; each view's logits become one P-way softmax per block.
 *
 * Source: sthalles/carp `modules/random_partition.py` (multinomial draw without
 * replacement + gather + per-block softmax); we draw with Fisher–Yates (spec §11.7).
 */
import { tf } from '../backend/tf';
import type { Tensor2D, Tensor3D } from '../backend/tf';
import type { Rng } from '../random';

function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Draws one partition (spec §3 steps 1–2).
 *
 * Returns the first N_p·P entries of a uniformly random permutation of 0..K−1, with
 * N_p = floor(K / P); block b is entries bP … bP+P−1. When P does not divide K the
 * K − N_p·P leftover prototypes are unused this step (as in the reference, which
 * floors silently; here it is documented and pinned by a test).
 *
 * @param numPrototypes K, the width of the prototype layer.
 * @param partitionSize P, prototypes per block (1 ≤ P ≤ K).
 * @param rng the caller's generator (advanced by K − 1 draws).
 * @returns Int32Array of length floor(K/P)·P with distinct indices in [0, K).
 */
export function samplePartition(
  numPrototypes: number,
  partitionSize: number,
  rng: Rng,
): Int32Array {
  assertPositiveInteger(numPrototypes, 'samplePartition: numPrototypes');
  assertPositiveInteger(partitionSize, 'samplePartition: partitionSize');
  if (partitionSize > numPrototypes) {
    throw new Error(
      `samplePartition: partitionSize (${partitionSize}) exceeds numPrototypes (${numPrototypes})`,
    );
  }
  const used = Math.floor(numPrototypes / partitionSize) * partitionSize;
  const perm = rng.permutation(numPrototypes);
  return used === numPrototypes ? perm : perm.slice(0, used);
}

/** Number of blocks N_p of a partition, with its consistency checked against K. */
function checkPartition(
  partition: Int32Array,
  partitionSize: number,
  numPrototypes: number,
): number {
  assertPositiveInteger(partitionSize, 'partitionProbabilities: partitionSize');
  const n = partition.length;
  if (n === 0 || n % partitionSize !== 0) {
    throw new Error(
      `partitionProbabilities: partition length ${n} is not a positive multiple of partitionSize ${partitionSize}`,
    );
  }
  if (n > numPrototypes) {
    throw new Error(
      `partitionProbabilities: partition has ${n} entries but the logits have only ${numPrototypes} prototypes`,
    );
  }
  // Distinctness is part of the contract and the custom gradient below relies on it.
  const seen = new Uint8Array(numPrototypes);
  for (let i = 0; i < n; i++) {
    const k = partition[i];
    if (!(k >= 0 && k < numPrototypes)) {
      throw new Error(
        `partitionProbabilities: partition[${i}] = ${k} is outside [0, ${numPrototypes})`,
      );
    }
    if (seen[k])
      throw new Error(`partitionProbabilities: prototype ${k} appears twice in the partition`);
    seen[k] = 1;
  }
  return n / partitionSize;
}

/**
 * Column gather `logits[:, partition]` whose gradient is a gather too.
 *
 * Why not plain `tf.gather`: its gradient is UnsortedSegmentSum, which the wasm backend
 * lacks, and for K = 65 536 a one-hot matMul would be K×K. Because partition indices are
 * distinct, the scatter-add back to [B, K] is a permutation: column k of the gradient is
 * column j of dy where partition[j] = k, or zero for the leftover prototypes. We append one
 * zero column to dy and gather with that inverse index — O(B·K), every backend.
 */
function gatherDistinctColumns(logits: Tensor2D, partition: Int32Array): Tensor2D {
  const numPrototypes = logits.shape[1];
  const used = partition.length;
  const gather = tf.customGrad((...inputs) => {
    const value = tf.gather(inputs[0] as Tensor2D, tf.tensor1d(partition, 'int32'), 1) as Tensor2D;
    const gradFunc = (dy: tf.Tensor) => {
      const inverse = new Int32Array(numPrototypes).fill(used); // `used` = the zero column
      for (let j = 0; j < used; j++) inverse[partition[j]] = j;
      const padded = tf.concat([dy, tf.zeros([dy.shape[0], 1])], 1);
      return tf.gather(padded, tf.tensor1d(inverse, 'int32'), 1);
    };
    return { value, gradFunc };
  });
  return gather(logits) as Tensor2D;
}

/**
 * Per-block probabilities of one view (spec §3 step 3–4).
 *
 * p[b, n, c] = softmax_c( logits[n, partition[bP + c]] ), c = 0..P−1.
 *
 * @param logits [B, K] prototype logits of one view (cast to float32 first, as the spec says).
 * @param partition distinct prototype indices, length N_p·P (from `samplePartition`).
 * @param partitionSize P.
 * @returns [N_blocks, B, P] float32, each row summing to 1. Differentiable w.r.t. `logits`
 *   on every backend (see `gatherDistinctColumns`).
 */
export function partitionProbabilities(
  logits: Tensor2D,
  partition: Int32Array,
  partitionSize: number,
): Tensor3D {
  tf.util.assert(
    logits.rank === 2,
    () => `partitionProbabilities: logits must be [B, K], got shape [${logits.shape}]`,
  );
  const [batch, numPrototypes] = logits.shape;
  const numBlocks = checkPartition(partition, partitionSize, numPrototypes);
  return tf.tidy(() => {
    const x = logits.dtype === 'float32' ? logits : tf.cast(logits, 'float32');
    const gathered = gatherDistinctColumns(x, partition); // [B, N_p·P]
    const blocks = tf.reshape(gathered, [batch, numBlocks, partitionSize]);
    return tf.transpose(tf.softmax(blocks, -1), [1, 0, 2]) as Tensor3D; // [N_p, B, P]
  });
}
