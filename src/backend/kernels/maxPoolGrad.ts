/**
 * `MaxPoolGrad` for the wasm backend, replacing the built-in one, which drops the
 * gradient of some windows (4×4 input, 2×2/2 pooling, one channel: one window lost;
 * ENVIRONMENT.md §4, reproduced in test/backend/gradients.test.ts).
 *
 * Rule (the cpu backend's `maxPoolPositions`): each window sends its `dy` to the first
 * position, in row-major window order, whose value is strictly the largest of the
 * window's in-bounds values; a window whose values are all −∞ sends nothing.
 *
 * Composite: for each tap (a, b) of the window, the strided slice of the padded input
 * under that tap is compared with the pooled output `y`; a still-unclaimed `dy` goes to
 * the first tap that matches. Padding reads as NaN, which never equals `y`. The claimed
 * `dy` of tap (a, b) lands at padded position (i·s + a, j·s + b): phase (a mod s, b mod s)
 * of a coarse grid, shifted by (⌊a/s⌋, ⌊b/s⌋). Taps are summed per phase on that coarse
 * grid and the phases interleaved with `DepthToSpace`, as in conv2dBackpropInput.ts.
 */
import { tf } from '../tf';
import { compositeKernel, shape4, window2d } from './composite';

/** Attributes tfjs-core passes to `MaxPoolGrad` (maxPool's gradient). */
export interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Gradient of `y = maxPool(x)` (NHWC) with respect to `x`, given `dy`. */
export function maxPoolGrad(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  attrs: MaxPoolGradAttrs,
): tf.Tensor4D {
  const info = tf.backend_util.computePool2DInfo(
    shape4(x.shape),
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { outHeight: ho, outWidth: wo, inHeight: h, inWidth: w } = info;
  const [n, , , c] = x.shape;
  tf.util.assert(
    tf.util.arraysEqual(dy.shape, [n, ho, wo, c]) && tf.util.arraysEqual(y.shape, dy.shape),
    () => `MaxPoolGrad: dy/output shapes do not match the pool's output [${[n, ho, wo, c]}]`,
  );
  const { top, left } = info.padInfo;
  const kh = Math.ceil(fh / sh);
  const kw = Math.ceil(fw / sw);
  const qh = ho + kh - 1; // coarse grid: padded rows 0 … qh·sh − 1
  const qw = wo + kw - 1;
  const xp = window2d(x, -top, (ho - 1) * sh + fh - top, -left, (wo - 1) * sw + fw - left, NaN);

  // dy not yet claimed by an earlier tap; an all −∞ window claims nothing (cpu rule).
  let rest: tf.Tensor4D = tf.where(tf.greater(y, -Infinity), dy, tf.zerosLike(dy));
  const zero = tf.zerosLike(dy);
  const phases = new Map<number, tf.Tensor4D>();
  for (let a = 0; a < fh; a++) {
    for (let b = 0; b < fw; b++) {
      const under = tf.stridedSlice(
        xp,
        [0, a, b, 0],
        [n, a + (ho - 1) * sh + 1, b + (wo - 1) * sw + 1, c],
        [1, sh, sw, 1],
      ) as tf.Tensor4D;
      const hit = tf.equal(under, y);
      const claimed = tf.where(hit, rest, zero);
      if (a < fh - 1 || b < fw - 1) rest = tf.where(hit, zero, rest);
      // Tap (a, b) adds to coarse cell (i + ⌊a/sh⌋, j + ⌊b/sw⌋) of phase (a mod sh, b mod sw).
      const di = Math.floor(a / sh);
      const dj = Math.floor(b / sw);
      const placed = window2d(claimed, -di, qh - di, -dj, qw - dj);
      const key = (a % sh) * sw + (b % sw);
      const sum = phases.get(key);
      phases.set(key, sum === undefined ? placed : tf.add(sum, placed));
    }
  }
  // Interleave phases: [N, qh, qw, (rh, rw, C)] → [N, qh·sh, qw·sw, C].
  let full: tf.Tensor4D;
  if (sh === 1 && sw === 1) {
    full = phases.get(0) as tf.Tensor4D;
  } else {
    const empty = tf.zeros([n, qh, qw, c]) as tf.Tensor4D;
    const parts: tf.Tensor4D[] = [];
    for (let k = 0; k < sh * sw; k++) parts.push(phases.get(k) ?? empty);
    const z = tf.concat(parts, 3) as tf.Tensor4D;
    full =
      sh === sw
        ? tf.depthToSpace(z, sh)
        : (tf.reshape(tf.transpose(tf.reshape(z, [n, qh, qw, sh, sw, c]), [0, 1, 3, 2, 4, 5]), [
            n,
            qh * sh,
            qw * sw,
            c,
          ]) as tf.Tensor4D);
  }
  // Keep the in-bounds positions top … top+H−1 (rows past the last window get zero).
  return window2d(full, top, top + h, left, left + w);
}

/** Kernel config for `backendName` (wasm). */
export function maxPoolGradConfig(backendName: string): tf.KernelConfig {
  return compositeKernel<MaxPoolGradAttrs>(
    tf.MaxPoolGrad,
    backendName,
    ({ dy, input, output }, attrs) =>
      maxPoolGrad(dy as tf.Tensor4D, input as tf.Tensor4D, output as tf.Tensor4D, attrs),
  );
}
