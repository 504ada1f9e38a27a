/**
 * "To float [0, 1], normalise" (§6 last row, §9.0): x ↦ (x/255 − mean)/std per channel.
 * Input: [B, H, W, C] with values in [0, 255] (any numeric dtype); output float32.
 */
import { tf } from '../backend/tf';

/** ImageNet statistics used by every pipeline of the paper (§6). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

/** (x/255 − mean)/std with per-channel mean/std (length C, or 1 to broadcast). */
export function normalizeImages(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  const c = x.shape[3];
  if ((mean.length !== c && mean.length !== 1) || mean.length !== std.length) {
    throw new Error(
      `normalizeImages: mean/std need ${c} (or 1) values, got ${mean.length} and ${std.length}`,
    );
  }
  if (std.some((s) => !(s > 0)))
    throw new Error(`normalizeImages: std must be positive, got [${std}]`);
  return tf.tidy(() => {
    // One multiply-add: x·(1/(255·std)) − mean/std.
    const scale = tf.tensor1d(std.map((s) => 1 / (255 * s)));
    const shift = tf.tensor1d(mean.map((m, i) => m / std[i]));
    return tf.sub(tf.mul(tf.cast(x, 'float32'), scale), shift) as tf.Tensor4D;
  });
}

/** Inverse of `normalizeImages` (back to [0, 255], for display). */
export function denormalizeImages(x: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const scale = tf.tensor1d(std.map((s) => 255 * s));
    const shift = tf.tensor1d(mean.map((m) => 255 * m));
    return tf.add(tf.mul(x, scale), shift) as tf.Tensor4D;
  });
}
