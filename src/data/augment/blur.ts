/**
 * Gaussian blur with one σ per image (§6: σ ∈ U(0.1, 2.0) px; PIL's GaussianBlur
 * with radius = σ). We use a true Gaussian truncated at ⌈3σ⌉ with edge-replicating
 * borders; PIL approximates the Gaussian by three box blurs (small differences, §11.17).
 *
 * Batched as a separable depthwise convolution: the batch is folded into the channel axis
 * ([1, H, W, n·C]) so each image's channels get that image's kernel — one conv per axis for
 * the whole batch, kernels zero-padded to the largest radius. σ ≤ 0 leaves an image as is.
 */
import { tf } from '../../backend/tf';

/** Normalised 1-D Gaussian taps for σ over radius R (2R+1 values); σ ≤ 0 gives a delta. */
export function gaussianKernel1d(sigma: number, radius: number): Float32Array {
  const k = new Float32Array(2 * radius + 1);
  if (!(sigma > 0)) {
    k[radius] = 1;
    return k;
  }
  const r = Math.min(radius, Math.ceil(3 * sigma));
  let s = 0;
  for (let i = -r; i <= r; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    k[radius + i] = v;
    s += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Edge-replicating pad of `r` pixels on both sides of `axis` (1: rows, 2: columns). */
function replicatePad(x: tf.Tensor4D, r: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis];
  const idx = new Int32Array(n + 2 * r);
  for (let i = 0; i < idx.length; i++) idx[i] = Math.min(n - 1, Math.max(0, i - r));
  return tf.gather(x, tf.tensor1d(idx, 'int32'), axis) as tf.Tensor4D;
}

/** Blurs image i with σ = sigmas[i] (0: unchanged). Input and output [n, H, W, C] float32. */
export function gaussianBlurBatch(x: tf.Tensor4D, sigmas: ArrayLike<number>): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (sigmas.length !== n)
    throw new Error(`gaussianBlurBatch: ${sigmas.length} sigmas for a batch of ${n}`);
  const maxSigma = Math.max(0, ...Array.from(sigmas));
  if (maxSigma === 0) return tf.clone(x);
  const r = Math.ceil(3 * maxSigma);
  const taps = 2 * r + 1;
  // Depthwise filter [taps, 1, n·C, 1]: channel (i, ch) carries image i's kernel.
  const filt = new Float32Array(taps * n * c);
  for (let i = 0; i < n; i++) {
    const k = gaussianKernel1d(sigmas[i], r);
    for (let t = 0; t < taps; t++)
      for (let ch = 0; ch < c; ch++) filt[t * n * c + i * c + ch] = k[t];
  }
  return tf.tidy(() => {
    // [n, H, W, C] → [1, H, W, n·C]
    const folded = tf.reshape(tf.transpose(x, [1, 2, 0, 3]), [1, h, w, n * c]) as tf.Tensor4D;
    const fv = tf.tensor4d(filt, [taps, 1, n * c, 1]);
    const fh = tf.tensor4d(filt, [1, taps, n * c, 1]);
    const rows = tf.depthwiseConv2d(replicatePad(folded, r, 1), fv, 1, 'valid');
    const both = tf.depthwiseConv2d(replicatePad(rows, r, 2), fh, 1, 'valid');
    return tf.transpose(tf.reshape(both, [h, w, n, c]), [2, 0, 1, 3]) as tf.Tensor4D;
  });
}
