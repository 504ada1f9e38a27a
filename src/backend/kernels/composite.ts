/**
 * Shared plumbing for our wasm gradient kernels: a kernel built from other tfjs ops
 * ("composite"), and the crop/zero-pad window that every convolution-style kernel needs.
 *
 * Why a helper: a kernel receives `TensorInfo`s, not tensors, and must return a
 * `TensorInfo` the engine will own. Wrapping an input with
 * `engine.makeTensorFromTensorInfo` adds no backend reference but disposing the wrapper
 * removes one, so we `incRef` each input first; the result's data gets one extra
 * reference before its wrapper is disposed, so the engine's own output tensor holds the
 * only one. With this, `tf.memory().numTensors` stays flat across training steps
 * (architecture §7.4, "Memory pitfall in composite kernels").
 *
 * Ops called inside a kernel are not recorded on the gradient tape (the engine records
 * only at kernel depth 0), so composites need no gradients of their own.
 */
import { tf } from '../tf';

/** The tfjs kernel-function signature (inputs and result as `TensorInfo`). */
type KernelFunc = tf.KernelConfig['kernelFunc'];

/**
 * Builds a `KernelConfig` for `backendName` from a function of real tensors.
 * `fn` runs inside `tf.tidy`; every intermediate is released, the result is handed over.
 */
export function compositeKernel<A>(
  kernelName: string,
  backendName: string,
  fn: (inputs: Record<string, tf.Tensor>, attrs: A, backend: tf.KernelBackend) => tf.Tensor,
): tf.KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
    // Typed `{}` in tfjs-core (backends differ); every backend implements incRef.
    const backend = anyBackend as tf.KernelBackend;
    const engine = tf.engine();
    const out = tf.tidy(() => {
      const wrapped: Record<string, tf.Tensor> = {};
      for (const [name, info] of Object.entries(inputs)) {
        if (info === undefined || info === null) continue;
        backend.incRef(info.dataId);
        wrapped[name] = engine.makeTensorFromTensorInfo(info, backend);
      }
      return fn(wrapped, attrs as unknown as A, backend);
    });
    backend.incRef(out.dataId);
    const result: tf.TensorInfo = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
    out.dispose();
    return result;
  };
  return { kernelName, backendName, kernelFunc };
}

/**
 * Rows `[h0, h1)` and columns `[w0, w1)` of an NHWC tensor, where indices outside the
 * tensor read as `fill` (a crop where inside, a pad where outside, both in one).
 * Returns `x` itself when the window is exactly the tensor.
 */
export function window2d(
  x: tf.Tensor4D,
  h0: number,
  h1: number,
  w0: number,
  w1: number,
  fill = 0,
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h0 === 0 && w0 === 0 && h1 === h && w1 === w) return x;
  const pt = Math.max(0, -h0);
  const pb = Math.max(0, h1 - h);
  const pl = Math.max(0, -w0);
  const pr = Math.max(0, w1 - w);
  let y = x;
  if (pt + pb + pl + pr > 0) {
    y = tf.pad(
      x,
      [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      fill,
    );
  }
  const [, hp, wp] = y.shape;
  const top = h0 + pt;
  const left = w0 + pl;
  if (top === 0 && left === 0 && h1 - h0 === hp && w1 - w0 === wp) return y;
  return tf.slice(y, [0, top, left, 0], [n, h1 - h0, w1 - w0, c]);
}

/** A conv input: the part of a window inside the tensor, and the zero padding around it. */
export interface ConvWindow {
  x: tf.Tensor4D;
  pad: [[number, number], [number, number], [number, number], [number, number]];
}

/**
 * The same window as {@link window2d} (zero fill) for use as a conv input: the crop is
 * done here, the zero border is left to the conv's explicit padding, which XNNPACK
 * applies without materialising a padded copy.
 */
export function convWindow(
  x: tf.Tensor4D,
  h0: number,
  h1: number,
  w0: number,
  w1: number,
): ConvWindow {
  const [, h, w] = x.shape;
  const inner = window2d(x, Math.max(0, h0), Math.min(h, h1), Math.max(0, w0), Math.min(w, w1));
  return {
    x: inner,
    pad: [
      [0, 0],
      [Math.max(0, -h0), Math.max(0, h1 - h)],
      [Math.max(0, -w0), Math.max(0, w1 - w)],
      [0, 0],
    ],
  };
}

/**
 * `[N, Q, V, (s_h, s_w, C)]` → `[N, Q·s_h, V·s_w, C]`: the sub-pixel interleave, as a
 * reshape and a transpose that keeps the channel runs contiguous. (wasm's DepthToSpace
 * kernel does the same ≈7× slower here.)
 */
export function interleavePhases(z: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, q, v, d] = z.shape;
  const c = d / (sh * sw);
  const z6 = tf.reshape(z, [n, q, v, sh, sw * c]);
  return tf.reshape(tf.transpose(z6, [0, 1, 3, 2, 4]), [n, q * sh, v * sw, c]);
}

/**
 * Every `sh`-th row and `sw`-th column of an NHWC tensor, from row/column 0:
 * `[N, ⌈H/sh⌉, ⌈W/sw⌉, C]`. Done as zero-pad to a multiple of the stride, a reshape to
 * `[N·Ho, sh, Wo, sw·C]` and a rank-4 slice, since wasm's `StridedSlice` is slow
 * (for a 32×32×32×64 tensor, stride 2: 170–320 ms vs ≈80 ms here, loaded machine).
 */
export function strided2d(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const ho = Math.ceil(h / sh);
  const wo = Math.ceil(w / sw);
  const xr = tf.reshape(window2d(x, 0, ho * sh, 0, wo * sw), [n * ho, sh, wo, sw * c]);
  return tf.reshape(tf.slice(xr, [0, 0, 0, 0], [n * ho, 1, wo, c]), [n, ho, wo, c]);
}

/** NCHW ↔ NHWC for kernels that compute in NHWC (the tfjs default and XNNPACK's layout). */
export function toNhwc(x: tf.Tensor4D, dataFormat: string | undefined): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 2, 3, 1]) : x;
}

/** Inverse of {@link toNhwc}. */
export function fromNhwc(x: tf.Tensor4D, dataFormat: string | undefined): tf.Tensor4D {
  return dataFormat === 'NCHW' ? tf.transpose(x, [0, 3, 1, 2]) : x;
}

/** The attributes tfjs-core passes to both conv2d gradient kernels, besides the known shape. */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The forward conv's geometry (padding, output size, strides) from the input and filter
 * shapes a gradient kernel knows, in the caller's layout, and `dy` in NHWC, checked
 * against the conv's output: the one place both gradients get them.
 */
export function convGradInputs(
  kernelName: string,
  xShape: readonly number[],
  filterShape: readonly number[],
  dyIn: tf.Tensor4D,
  attrs: ConvGradAttrs,
): { info: tf.backend_util.Conv2DInfo; dy: tf.Tensor4D } {
  const info = tf.backend_util.computeConv2DInfo(
    shape4(xShape),
    shape4(filterShape),
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    convDataFormat(attrs.dataFormat),
  );
  const dy = toNhwc(dyIn, attrs.dataFormat);
  const { batchSize: n, outHeight: ho, outWidth: wo, outChannels: o } = info;
  tf.util.assert(
    dy.shape[1] === ho && dy.shape[2] === wo && dy.shape[3] === o,
    () =>
      `${kernelName}: dy shape [${dy.shape.join(',')}] does not match the conv's output ` +
      `[${n},${ho},${wo},${o}]`,
  );
  return { info, dy };
}

/** computeConv2DInfo's name for a tfjs `dataFormat`. */
export function convDataFormat(dataFormat: string | undefined): 'channelsFirst' | 'channelsLast' {
  return dataFormat === 'NCHW' ? 'channelsFirst' : 'channelsLast';
}

/** A 4-tuple shape as computeConv2DInfo expects. */
export function shape4(s: readonly number[]): [number, number, number, number] {
  tf.util.assert(s.length === 4, () => `expected a rank-4 shape, got [${s.join(',')}]`);
  return [s[0], s[1], s[2], s[3]];
}
