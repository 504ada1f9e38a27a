/**
 * Applies a batched op to a subset of the images of a batch and puts the results back in
 * place (tfjs has no scatter-update: concatenate [processed, untouched] and gather with
 * the inverse order). Used where a per-image random choice decides whether an op runs
 * (colour-jitter order, blur), so only the chosen images pay for it.
 */
import { tf } from '../../backend/tf';

export function applyToSubset(
  x: tf.Tensor4D,
  indices: ArrayLike<number>,
  fn: (sub: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  const b = x.shape[0];
  if (indices.length === 0) return tf.clone(x);
  if (indices.length === b) return tf.tidy(() => fn(x));
  return tf.tidy(() => {
    const chosen = new Uint8Array(b);
    for (let k = 0; k < indices.length; k++) chosen[indices[k]] = 1;
    const rest: number[] = [];
    for (let i = 0; i < b; i++) if (!chosen[i]) rest.push(i);
    const order = [...Array.from(indices), ...rest];
    const inverse = new Int32Array(b);
    order.forEach((i, pos) => (inverse[i] = pos));
    const done = fn(tf.gather(x, tf.tensor1d(Int32Array.from(indices), 'int32')));
    const kept = tf.gather(x, tf.tensor1d(Int32Array.from(rest), 'int32'));
    return tf.gather(tf.concat([done, kept], 0), tf.tensor1d(inverse, 'int32')) as tf.Tensor4D;
  });
}
