/**
 * The random-partition pretext task (§3): every micro-step draws a fresh partition
 * of the K prototypes into N_p = floor(K / P) blocks of P, shared by all views and all
 * images; each view's logits become one P-way softmax per block.
 *
 * Source: sthalles/carp `modules/random_partition.py` (multinomial draw without
 * replacement + gather + per-block softmax); we draw with Fisher–Yates (§11.7).
 */
import { CARP_BLOCKS, CARP_UNBLOCKS, hasBlockKernels } from '../backend/kernels/blockPermute';
import { tf } from '../backend/tf';
import type { Tensor2D, Tensor3D } from '../backend/tf';
import type { Rng } from '../random';

function assertPositiveInteger(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
}

/**
 * Draws one partition (§3 steps 1–2).
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
  who: string,
  partition: Int32Array,
  partitionSize: number,
  numPrototypes: number,
): number {
  assertPositiveInteger(partitionSize, `${who}: partitionSize`);
  const n = partition.length;
  if (n === 0 || n % partitionSize !== 0) {
    throw new Error(
      `${who}: partition length ${n} is not a positive multiple of partitionSize ${partitionSize}`,
    );
  }
  if (n > numPrototypes) {
    throw new Error(
      `${who}: partition has ${n} entries but the logits have only ${numPrototypes} prototypes`,
    );
  }
  // Distinctness is part of the contract and the custom gradient below relies on it.
  const seen = new Uint8Array(numPrototypes);
  for (let i = 0; i < n; i++) {
    const k = partition[i];
    if (!(k >= 0 && k < numPrototypes)) {
      throw new Error(`${who}: partition[${i}] = ${k} is outside [0, ${numPrototypes})`);
    }
    if (seen[k]) throw new Error(`${who}: prototype ${k} appears twice in the partition`);
    seen[k] = 1;
  }
  return n / partitionSize;
}

/** Backends whose tensors live in host memory: reading them back is a cheap copy. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

/** Host path, forward: out[b, n, c] = x[n, partition[bP + c]]. */
function permuteToBlocks(
  x: Float32Array,
  partition: Int32Array,
  batch: number,
  k: number,
  p: number,
): Float32Array {
  const numBlocks = partition.length / p;
  const out = new Float32Array(numBlocks * batch * p);
  for (let b = 0; b < numBlocks; b++) {
    for (let n = 0; n < batch; n++) {
      const row = n * k;
      const o = (b * batch + n) * p;
      for (let c = 0; c < p; c++) out[o + c] = x[row + partition[b * p + c]];
    }
  }
  return out;
}

/** Host path, backward: the transpose of `permuteToBlocks` (zeros for unused prototypes). */
function blocksToLogits(
  dy: Float32Array,
  partition: Int32Array,
  batch: number,
  k: number,
  p: number,
): Float32Array {
  const numBlocks = partition.length / p;
  const grad = new Float32Array(batch * k);
  for (let b = 0; b < numBlocks; b++) {
    for (let n = 0; n < batch; n++) {
      const row = n * k;
      const o = (b * batch + n) * p;
      for (let c = 0; c < p; c++) grad[row + partition[b * p + c]] = dy[o + c];
    }
  }
  return grad;
}

/**
 * The logits of each block, [B, K] → [N_p, B, P]: logits[n, partition[bP + c]] at [b, n, c].
 *
 * Why a custom gradient: `tf.gather`'s gradient is UnsortedSegmentSum, which the wasm
 * backend lacks, and a one-hot matMul would be K×K for K = 65 536. Partition indices are
 * distinct, so the scatter back to [B, K] is a permutation (zeros for leftover
 * prototypes) and needs no summation.
 *
 * Why a host path: on cpu/wasm, tfjs' generic Gather and Transpose kernels cost
 * ~100–250 ns per element (measured on this machine: ~0.3–0.5 s per [32, 65 536] view);
 * the same permutation as a plain JS loop over the host copy takes a few ms. On other
 * backends (tfjs-node, GPU) the data stays on the device: gather + transpose there, and
 * the backward is a gather with the inverse index over `dy` padded by one zero column.
 * `path` overrides the choice (tests run both on every backend).
 *
 * @param logits [B, K]. @param partition distinct indices, length N_p·P. @param partitionSize P.
 * @returns [N_blocks, B, P], same values as logits (no softmax).
 */
export function blockLogits(
  logits: Tensor2D,
  partition: Int32Array,
  partitionSize: number,
  path: 'host' | 'device' = HOST_BACKENDS.has(tf.getBackend()) ? 'host' : 'device',
): Tensor3D {
  tf.util.assert(
    logits.rank === 2,
    () => `blockLogits: logits must be [B, K], got shape [${logits.shape}]`,
  );
  checkPartition('blockLogits', partition, partitionSize, logits.shape[1]);
  return tf.tidy(() => permuteBlocks(logits, partition, partitionSize, path === 'host'));
}

/** `blockLogits` without the checks. */
function permuteBlocks(
  logits: Tensor2D,
  partition: Int32Array,
  partitionSize: number,
  host: boolean,
): Tensor3D {
  const [batch, numPrototypes] = logits.shape;
  const numBlocks = partition.length / partitionSize;
  const shape: [number, number, number] = [numBlocks, batch, partitionSize];
  const permute = tf.customGrad((...inputs) => {
    const x = inputs[0] as Tensor2D;
    // On wasm the permutation runs in the heap (backend/kernels/blockPermute.ts): no copies.
    const inHeap = host && hasBlockKernels();
    const attrs = { partition, partitionSize, numPrototypes } as unknown as tf.NamedAttrMap;
    const value = inHeap
      ? (tf.engine().runKernel(CARP_BLOCKS, { x }, attrs) as Tensor3D)
      : host
        ? tf.tensor3d(
            permuteToBlocks(
              x.dataSync() as Float32Array,
              partition,
              batch,
              numPrototypes,
              partitionSize,
            ),
            shape,
          )
        : (tf.transpose(
            tf.reshape(tf.gather(x, tf.tensor1d(partition, 'int32'), 1), [
              batch,
              numBlocks,
              partitionSize,
            ]),
            [1, 0, 2],
          ) as Tensor3D);
    const gradFunc = (dy: tf.Tensor) => {
      if (inHeap) return tf.engine().runKernel(CARP_UNBLOCKS, { dy }, attrs) as Tensor2D;
      if (host) {
        const g = blocksToLogits(
          dy.dataSync() as Float32Array,
          partition,
          batch,
          numPrototypes,
          partitionSize,
        );
        return tf.tensor2d(g, [batch, numPrototypes]);
      }
      const used = partition.length;
      const inverse = new Int32Array(numPrototypes).fill(used); // `used` = the zero column
      for (let j = 0; j < used; j++) inverse[partition[j]] = j;
      const columns = tf.reshape(tf.transpose(dy, [1, 0, 2]), [batch, used]);
      const padded =
        used < numPrototypes
          ? tf.pad(columns, [
              [0, 0],
              [0, 1],
            ])
          : columns;
      return tf.gather(padded, tf.tensor1d(inverse, 'int32'), 1);
    };
    return { value, gradFunc };
  });
  return permute(logits) as Tensor3D;
}

/**
 * Per-block probabilities of one view (§3 step 3–4).
 *
 * p[b, n, c] = softmax_c( logits[n, partition[bP + c]] ), c = 0..P−1.
 *
 * @param logits [B, K] prototype logits of one view (cast to float32 first, as §3 says).
 * @param partition distinct prototype indices, length N_p·P (from `samplePartition`).
 * @param partitionSize P.
 * @returns [N_blocks, B, P] float32, each row summing to 1. Differentiable w.r.t. `logits`
 *   on every backend (see `blockLogits`).
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
  checkPartition('partitionProbabilities', partition, partitionSize, logits.shape[1]);
  const host = HOST_BACKENDS.has(tf.getBackend());
  return tf.tidy(() => {
    const x = logits.dtype === 'float32' ? logits : tf.cast(logits, 'float32');
    return tf.softmax(permuteBlocks(x, partition, partitionSize, host), -1) as Tensor3D;
  });
}
