/**
 * Evaluation-mode convolution → batch norm (→ + residual) (→ ReLU) as one kernel of ours
 * on the native addon (native/onednn.h `forwardFolded`):
 *
 *   CarpConvBnInference(x, filter, scale, shift[, residual]; strides, pad, relu, residual)
 *     → y = relu?(conv(x, filter)·scale + shift (+ residual))
 *
 * with scale = γ/√(running σ² + ε) and shift = β − running μ·scale per output channel.
 * The norm is folded into the convolution's filter and bias and the residual and ReLU are
 * oneDNN post-ops, so the output is written once; conv then norm wrote it, read it back and
 * wrote it again (at width 8, the norm was ≈ 15 % of a feature batch). No gradient: it is
 * for feature extraction (`ForwardOptions.folded`, src/models/layers.ts `convBatchNorm`).
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';
import { convInfo, geometry, type ConvAttrs } from './convGeometry';

export const CARP_CONV_BN_INFERENCE = 'CarpConvBnInference';

/** Attributes of `CarpConvBnInference`: the convolution's and the epilogue. */
export interface ConvBnAttrs {
  strides: number;
  pad: ConvAttrs['pad'];
  relu: boolean;
  residual: boolean;
}

/**
 * Whether oneDNN's padding rule takes the geometry (native/onednn.h `padAfter`, `fits`):
 * the bottom/right padding that gives tfjs's output size must exist.
 */
export function foldableGeometry(xShape: number[], filterShape: number[], a: ConvBnAttrs): boolean {
  const info = convInfo(xShape, filterShape, { ...a, dataFormat: 'NHWC' });
  const ok = (inp: number, before: number, span: number, stride: number, out: number) =>
    (out - 1) * stride + span - inp - before + stride - 1 >= 0;
  return (
    ok(info.inHeight, info.padInfo.top, info.filterHeight, info.strideHeight, info.outHeight) &&
    ok(info.inWidth, info.padInfo.left, info.filterWidth, info.strideWidth, info.outWidth)
  );
}

export function convBnInferenceConfig(addon: NativeAddon): tf.KernelConfig {
  return {
    kernelName: CARP_CONV_BN_INFERENCE,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, filter, scale, shift, residual } = args.inputs as Record<string, tf.TensorInfo>;
      const a = args.attrs as unknown as ConvBnAttrs;
      const info = convInfo(x.shape, filter.shape, { ...a, dataFormat: 'NHWC' });
      const o = info.outChannels;
      const bad = (what: string) => new Error(`${CARP_CONV_BN_INFERENCE}: ${what}`);
      for (const t of [x, filter, scale, shift, ...(a.residual ? [residual] : [])]) {
        if (t.dtype !== 'float32' || size(t) === 0)
          throw bad('every input must be non-empty float32');
      }
      for (const [name, t] of [
        ['scale', scale],
        ['shift', shift],
      ] as const) {
        if (size(t) !== o)
          throw bad(`${name} has ${size(t)} values, expected ${o} (output channels)`);
      }
      if (a.residual && !tf.util.arraysEqual(residual.shape, info.outShape)) {
        throw bad(`residual has shape [${residual.shape}], expected [${info.outShape}]`);
      }
      const b = heapBackend(args);
      const y = b.makeOutput(info.outShape, 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      const done = addon.convBnInference(
        b.wasm.HEAPU8,
        off(x),
        off(filter),
        off(scale),
        off(shift),
        a.residual ? off(residual) : 0,
        off(y),
        ...geometry(info),
        a.relu ? 1 : 0,
        a.residual ? 1 : 0,
      );
      if (!done) throw bad(`oneDNN does not take this geometry (check foldableGeometry first)`);
      return y;
    },
  };
}
