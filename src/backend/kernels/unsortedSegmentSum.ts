/**
 * `UnsortedSegmentSum` for the wasm backend, which lacks it (architecture §7.4); it is the
 * gradient of `tf.gather` (tfjs-core GatherV2_grad), which CARP's random partition of
 * the prototypes uses.
 *
 * `out[s, …] = Σ_{i : ids[i] = s} x[i, …]`. The wasm `ScatterNd` kernel adds duplicate
 * indices (TF semantics, checked against the cpu backend), so one `scatterND` of the rows
 * onto `[numSegments, …]` is the whole kernel: O(n·rest) work, where the one-hot + matMul
 * form (architecture §7.4) costs O(n·numSegments·rest) and a `[K, K]` one-hot for the paper's
 * K = 65 536 prototypes would not fit in memory. Ids outside `[0, numSegments)` are
 * dropped, as in TF and the cpu backend (which sums per-segment masks).
 */
import { tf } from '../tf';
import { compositeKernel } from './composite';

/** `[numSegments, …x.shape[ids.rank:]]`: rows of `x` summed by segment id. */
export function unsortedSegmentSum(
  x: tf.Tensor,
  segmentIds: tf.Tensor,
  numSegments: number,
): tf.Tensor {
  const n = segmentIds.size;
  const rest = x.shape.slice(segmentIds.rank);
  tf.util.assert(
    tf.util.arraysEqual(x.shape.slice(0, segmentIds.rank), segmentIds.shape),
    () =>
      `UnsortedSegmentSum: segmentIds shape [${segmentIds.shape.join(',')}] must prefix ` +
      `x shape [${x.shape.join(',')}]`,
  );
  if (n === 0) return tf.zeros([numSegments, ...rest], x.dtype);
  const rows = tf.reshape(x, [n, ...rest]);
  let ids = tf.reshape(tf.cast(segmentIds, 'int32'), [n, 1]);
  // Reading ids is cheap next to the scatter (n ints vs n·rest values) and keeps the
  // common all-valid case to a single op.
  const values = ids.dataSync();
  let valid = true;
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0 && values[i] < numSegments)) {
      valid = false;
      break;
    }
  }
  if (valid) return tf.scatterND(ids, rows, [numSegments, ...rest]);
  // Send invalid ids to an extra segment and drop it.
  const ok = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
  ids = tf.where(ok, ids, tf.fill(ids.shape, numSegments, 'int32'));
  const all = tf.scatterND(ids, rows, [numSegments + 1, ...rest]);
  return tf.slice(all, 0, numSegments);
}

/** Kernel config for `backendName` (wasm). */
export function unsortedSegmentSumConfig(backendName: string): tf.KernelConfig {
  return compositeKernel<{ numSegments: number }>(
    tf.UnsortedSegmentSum,
    backendName,
    ({ x, segmentIds }, { numSegments }) => unsortedSegmentSum(x, segmentIds, numSegments),
  );
}
