/**
 * `Conv2DBackpropInput` (the conv input gradient) for the wasm backend, replacing the
 * built-in one, a scalar loop that took 2.4 s of a 4.5 s ResNet-18 step (architecture §7.4).
 *
 * `dx[y] = Σ_{i,a : i·s + a − top = y} dy[i] · w[a]` (per spatial axis; channels contract
 * `w[a,b,c,o]` over `o`). Textbook form: a forward conv of the stride-dilated, padded `dy`
 * with the flipped, in/out-swapped filter. For stride s > 1 three quarters of that dilated
 * input are zeros, so we use the equivalent sub-pixel ("phase") form instead: write
 * `Y = y + top = q·s + r`; then `dx[Y] = Σ_k dy[q − k] · w[r + s·k]`, k < K = ⌈f/s⌉, i.e.
 * for each phase r a stride-1 conv of `dy` with the flipped sub-filter `w[r + s·k]`.
 * All s² phases share one conv whose output channels are `(r_h, r_w, c)`; `DepthToSpace`
 * interleaves them back to full resolution (a reshape + transpose; wasm's `DepthToSpace` is slow) (the same idea as ESPCN's sub-pixel conv,
 * Shi et al. 2016). A 3×3/2 gradient costs 16/9 of the forward conv instead of 4×; for
 * s = 1 it is exactly the textbook form. Phases a filter never reaches (1×1 with s = 2)
 * are left out of the conv and filled with zeros.
 */
import { tf } from '../tf';
import {
  compositeKernel,
  convGradInputs,
  type ConvGradAttrs,
  convWindow,
  fromNhwc,
  interleavePhases,
  window2d,
} from './composite';

/** Attributes tfjs-core passes to `Conv2DBackpropInput` (conv2d's gradient). */
export interface Conv2DBackpropInputAttrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

/**
 * The phase filter `[Kh, Kw, O, ph·pw·C]` from `w [fh, fw, C, O]`: tap `(t_h, t_w)` of
 * phase `(r_h, r_w)` is `w[r_h + s_h·(Kh−1−t_h), r_w + s_w·(Kw−1−t_w)]` (zero past the
 * filter), keeping only the `ph = min(fh, s_h)` × `pw = min(fw, s_w)` phases with taps.
 * One typed-array pass over the (small) filter: as tfjs ops it needs a rank-6 reverse
 * and transpose, which wasm runs element by element (0.8 s of an 11 s ResNet-18 step).
 */
export function phaseFilter(w: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [fh, fw, c, o] = w.shape;
  const kh = Math.ceil(fh / sh);
  const kw = Math.ceil(fw / sw);
  const ph = Math.min(fh, sh);
  const pw = Math.min(fw, sw);
  const src = w.dataSync();
  const out = new Float32Array(kh * kw * o * ph * pw * c);
  let k = 0;
  for (let th = 0; th < kh; th++) {
    for (let tw = 0; tw < kw; tw++) {
      for (let oo = 0; oo < o; oo++) {
        for (let rh = 0; rh < ph; rh++) {
          const a = rh + sh * (kh - 1 - th);
          for (let rw = 0; rw < pw; rw++) {
            const b = rw + sw * (kw - 1 - tw);
            if (a >= fh || b >= fw) {
              k += c; // past the filter: zero taps
              continue;
            }
            const base = (a * fw + b) * c * o + oo;
            for (let cc = 0; cc < c; cc++) out[k++] = src[base + cc * o];
          }
        }
      }
    }
  }
  return tf.tensor4d(out, [kh, kw, o, ph * pw * c]);
}

/** The input gradient (shape `attrs.inputShape`) of conv2d(x, w) given `dy`. */
export function conv2dBackpropInput(
  dyIn: tf.Tensor4D,
  w: tf.Tensor4D,
  attrs: Conv2DBackpropInputAttrs,
): tf.Tensor4D {
  // Padding and sizes from the caller's layout; the arithmetic below is NHWC.
  const { info, dy } = convGradInputs(
    'Conv2DBackpropInput',
    attrs.inputShape,
    w.shape,
    dyIn,
    attrs,
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { inHeight: h, inWidth: wd, inChannels: c, batchSize: n } = info;
  const { top, left } = info.padInfo;
  const kh = Math.ceil(fh / sh);
  const kw = Math.ceil(fw / sw);
  const ph = Math.min(fh, sh);
  const pw = Math.min(fw, sw);
  // Coarse rows q (and columns) whose phases cover padded positions top … top+H−1.
  const q0 = Math.floor(top / sh);
  const q1 = Math.floor((top + h - 1) / sh) + 1;
  const v0 = Math.floor(left / sw);
  const v1 = Math.floor((left + wd - 1) / sw) + 1;
  // Output q reads dy rows q−K+1 … q; rows outside dy read as zero.
  const dyw = convWindow(dy, q0 - kh + 1, q1, v0 - kw + 1, v1);
  let z: tf.Tensor4D = tf.conv2d(dyw.x, phaseFilter(w, sh, sw), 1, dyw.pad); // [N, Q, V, ph·pw·C]
  const q = q1 - q0;
  const v = v1 - v0;
  if (ph < sh || pw < sw) {
    // Phases the filter never reaches (e.g. 1×1 with stride 2) are zero.
    const z6 = tf.reshape(z, [n, q, v, ph, pw, c]);
    const padded = tf.pad(z6, [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, sh - ph],
      [0, sw - pw],
      [0, 0],
    ]);
    z = tf.reshape(padded, [n, q, v, sh * sw * c]);
  }
  if (sh > 1 || sw > 1) z = interleavePhases(z, sh, sw);
  // z row j holds padded position Y = q0·s + j; keep Y = top … top+H−1.
  const r0 = top - q0 * sh;
  const c0 = left - v0 * sw;
  return fromNhwc(window2d(z, r0, r0 + h, c0, c0 + wd), attrs.dataFormat);
}

/** Kernel config for `backendName` (wasm). NCHW is computed through NHWC transposes. */
export function conv2dBackpropInputConfig(backendName: string): tf.KernelConfig {
  return compositeKernel<Conv2DBackpropInputAttrs>(
    tf.Conv2DBackpropInput,
    backendName,
    ({ dy, filter }, attrs) => conv2dBackpropInput(dy as tf.Tensor4D, filter as tf.Tensor4D, attrs),
  );
}
