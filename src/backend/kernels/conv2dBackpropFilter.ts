/**
 * `Conv2DBackpropFilter` (the conv weight gradient) for the wasm backend, which lacks it
 * (architecture §7.4: "Missing on wasm and needed for training").
 *
 * For a forward conv `y[n,i,j,o] = Σ x_pad[n, i·s+a, j·s+b, c] · w[a,b,c,o]` the weight
 * gradient is `dw[a,b,c,o] = Σ_{n,i,j} x_pad[n, i·s+a, j·s+b, c] · dy[n,i,j,o]`, which is
 * itself a forward convolution: input channels play the batch, the batch plays the
 * channels, `dy` is the filter and the conv's stride becomes the dilation:
 *
 *   conv2d(x_padᵀ [C, Hn, Wn, N], dyᵀ [Ho, Wo, N, O], stride 1, dilation s, 'valid')
 *     = dwᵀ [C, fh, fw, O]
 *
 * on `x_pad` cropped to exactly the `Hn = (Ho−1)·s + fh` rows the forward touched (the
 * zero border is the conv's own padding, not a copy). This runs on XNNPACK and was ≈10×
 * faster than per-tap slices + matMul; its odd GEMM shape (a kernel as large as the
 * feature map, only N channels per tap) makes it 1.1–2.6× the forward conv's time at
 * ResNet-18 shapes here. A 1×1 filter is a plain `xᵀ · dy` matMul on the strided input.
 */
import { tf } from '../tf';
import {
  compositeKernel,
  convGradInputs,
  type ConvGradAttrs,
  convWindow,
  strided2d,
  toNhwc,
  window2d,
} from './composite';

/** Attributes tfjs-core passes to `Conv2DBackpropFilter` (conv2d's gradient). */
export interface Conv2DBackpropFilterAttrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

/** The weight gradient `[fh, fw, inChannels, outChannels]` of conv2d(x) given `dy`. */
export function conv2dBackpropFilter(
  xIn: tf.Tensor4D,
  dyIn: tf.Tensor4D,
  attrs: Conv2DBackpropFilterAttrs,
): tf.Tensor4D {
  // Padding and sizes from the caller's layout; the arithmetic below is NHWC.
  const { info, dy } = convGradInputs(
    'Conv2DBackpropFilter',
    xIn.shape,
    attrs.filterShape,
    dyIn,
    attrs,
  );
  const x = toNhwc(xIn, attrs.dataFormat);
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { outHeight: ho, outWidth: wo, inChannels: c, outChannels: o } = info;
  // The padded input, cropped to the rows/columns some window touched.
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const hn = (ho - 1) * sh + fh;
  const wn = (wo - 1) * sw + fw;
  if (fh === 1 && fw === 1) {
    const xw = window2d(x, -top, hn - top, -left, wn - left);
    const xs = strided2d(xw, sh, sw); // [N, Ho, Wo, C]
    // xᵀ·dy; our BatchMatMul kernel turns the transposed operand into XNNPACK's fast path.
    const dw = tf.matMul(tf.reshape(xs, [-1, c]), tf.reshape(dy, [-1, o]), true, false);
    return tf.reshape(dw, [1, 1, c, o]);
  }
  const xw = convWindow(x, -top, hn - top, -left, wn - left); // zero border left to the conv
  const xT = tf.transpose(xw.x, [3, 1, 2, 0]); // [C, Hn, Wn, N] (less the border)
  const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, O]
  const dwT = tf.conv2d(xT, dyT, 1, xw.pad, 'NHWC', [sh, sw]); // [C, fh, fw, O]
  return tf.transpose(dwT, [1, 2, 0, 3]);
}

/** Kernel config for `backendName` (wasm). NCHW is computed through NHWC transposes. */
export function conv2dBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return compositeKernel<Conv2DBackpropFilterAttrs>(
    tf.Conv2DBackpropFilter,
    backendName,
    // The filter has no batch/channel layout: only the inputs are transposed.
    ({ x, dy }, attrs) => conv2dBackpropFilter(x as tf.Tensor4D, dy as tf.Tensor4D, attrs),
  );
}
