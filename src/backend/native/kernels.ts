/**
 * tfjs kernel configs for the wasm backend that run the native addon (./addon.ts) on the
 * wasm heap: `Conv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`, `BatchMatMul`,
 * `MaxPoolGrad` (the cpu backend's first-maximum rule, as our wasm kernel), and the two
 * batch-norm kernels of ./batchNormKernels.ts, and the random partition's permutation
 * (`CarpBlocks`, `CarpUnblocks`, ../kernels/blockPermute.ts).
 *
 * Each kernel allocates its output through the wasm backend (so tfjs owns it as usual),
 * then hands the addon the heap and byte offsets; no data is copied. Cases the addon does
 * not cover (NCHW, non-float32, empty tensors, batch broadcasting other than 1 ↔ B) go to
 * the `fallback` config: our pure-wasm kernel or wasm's built-in.
 */
import { tf } from '../tf';
import { blocksConfig, unblocksConfig } from '../kernels/blockPermute';
import type { NativeAddon } from './addon';
import { batchNormConfigs } from './batchNormKernels';
import { carpLossConfig } from './carpLossKernel';
import { convBnInferenceConfig } from './convBnKernel';
import { geluConfigs } from './geluKernels';
import { optimizerConfigs } from './optimizerKernels';
import { convInfo, geometry, type ConvAttrs, type Shape4 } from './convGeometry';
import { allFloat, heapBackend, size } from './heap';

/** An addon function of a conv-style kernel: (heap, a, b, out, ...geometry). */
type ConvFn = (heap: Uint8Array, a: number, b: number, out: number, ...geometry: number[]) => void;

/** What one conv-style kernel call computes: `fn(a, b) → out` of `outShape`. */
interface ConvCall {
  fn: ConvFn;
  a: tf.TensorInfo;
  b: tf.TensorInfo;
  outShape: number[];
  info: tf.backend_util.Conv2DInfo;
}

/**
 * A native conv-style kernel. `plan` returns undefined to defer to the fallback (which
 * also reports shape errors); NCHW and non-float32 or empty inputs always defer.
 */
function convConfig(
  kernelName: string,
  fallback: tf.KernelConfig,
  plan: (inputs: Record<string, tf.TensorInfo>, attrs: ConvAttrs) => ConvCall | undefined,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    setupFunc: fallback.setupFunc,
    kernelFunc: (args) => {
      const attrs = args.attrs as unknown as ConvAttrs;
      const inputs = args.inputs as Record<string, tf.TensorInfo>;
      const call =
        attrs.dataFormat === 'NCHW' || !allFloat(Object.values(inputs))
          ? undefined
          : plan(inputs, attrs);
      if (!call) return fallback.kernelFunc(args);
      const b = heapBackend(args);
      const out = b.makeOutput(call.outShape, 'float32');
      if (size(out) === 0) return out;
      // The heap is read after makeOutput: an allocation may grow (replace) it.
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      call.fn(b.wasm.HEAPU8, off(call.a), off(call.b), off(out), ...geometry(call.info));
      return out;
    },
  };
}

/** The native kernel configs for wasm; `fallbacks` holds the configs they replace. */
export function nativeKernelConfigs(
  addon: NativeAddon,
  fallbacks: Map<string, tf.KernelConfig>,
): tf.KernelConfig[] {
  const need = (name: string): tf.KernelConfig => {
    const f = fallbacks.get(name);
    if (!f) throw new Error(`native kernels: no wasm ${name} to fall back to`);
    return f;
  };
  const conv2d = convConfig(tf.Conv2D, need(tf.Conv2D), ({ x, filter }, attrs) => {
    const info = convInfo(x.shape, filter.shape, attrs);
    return { fn: addon.conv2d.bind(addon), a: x, b: filter, outShape: info.outShape, info };
  });
  const backpropInput = convConfig(
    tf.Conv2DBackpropInput,
    need(tf.Conv2DBackpropInput),
    ({ dy, filter }, attrs) => {
      const inputShape = attrs.inputShape as Shape4;
      if (tf.util.sizeFromShape(inputShape) === 0) return undefined;
      const info = convInfo(inputShape, filter.shape, attrs);
      if (!tf.util.arraysEqual(info.outShape, dy.shape)) return undefined;
      const fn = addon.conv2dBackpropInput.bind(addon);
      return { fn, a: dy, b: filter, outShape: inputShape, info };
    },
  );
  const backpropFilter = convConfig(
    tf.Conv2DBackpropFilter,
    need(tf.Conv2DBackpropFilter),
    ({ x, dy }, attrs) => {
      const filterShape = attrs.filterShape as Shape4;
      const info = convInfo(x.shape, filterShape, attrs);
      if (!tf.util.arraysEqual(info.outShape, dy.shape)) return undefined;
      const fn = addon.conv2dBackpropFilter.bind(addon);
      return { fn, a: x, b: dy, outShape: filterShape, info };
    },
  );
  const maxPoolGrad = convConfig(tf.MaxPoolGrad, need(tf.MaxPoolGrad), ({ dy, input }, attrs) => {
    const a = attrs as unknown as { filterSize: [number, number] | number } & ConvAttrs;
    const info = tf.backend_util.computePool2DInfo(
      input.shape as Shape4,
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    if (!tf.util.arraysEqual(info.outShape, dy.shape)) return undefined;
    const fn = addon.maxPoolGrad.bind(addon);
    return { fn, a: dy, b: input, outShape: input.shape, info };
  });
  return [
    conv2d,
    backpropInput,
    backpropFilter,
    maxPoolGrad,
    matMulConfig(addon, need(tf.BatchMatMul)),
    ...batchNormConfigs(addon),
    blocksConfig('wasm', addon),
    unblocksConfig('wasm', addon),
    carpLossConfig(addon),
    ...geluConfigs(addon),
    ...optimizerConfigs(addon),
    convBnInferenceConfig(addon),
  ];
}

function matMulConfig(addon: NativeAddon, fallback: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    setupFunc: fallback.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as {
        transposeA: boolean;
        transposeB: boolean;
      };
      const outerA = a.shape.slice(0, -2);
      const outerB = b.shape.slice(0, -2);
      const batchA = tf.util.sizeFromShape(outerA);
      const batchB = tf.util.sizeFromShape(outerB);
      const sameBatch = batchA === batchB && tf.util.arraysEqual(outerA, outerB);
      const ra = a.shape.length;
      const rb = b.shape.length;
      const m = a.shape[ra - (transposeA ? 1 : 2)];
      const k = a.shape[ra - (transposeA ? 2 : 1)];
      const n = b.shape[rb - (transposeB ? 2 : 1)];
      const kb = b.shape[rb - (transposeB ? 1 : 2)];
      if (!allFloat([a, b]) || k !== kb || !(sameBatch || batchA === 1 || batchB === 1)) {
        return fallback.kernelFunc(args); // it also reports shape errors
      }
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
      const backend = heapBackend(args);
      const out = backend.makeOutput([...outer, m, n], 'float32');
      addon.matMul(
        backend.wasm.HEAPU8,
        backend.getMemoryOffset(a.dataId),
        backend.getMemoryOffset(b.dataId),
        backend.getMemoryOffset(out.dataId),
        batchA,
        batchB,
        m,
        n,
        k,
        transposeA ? 1 : 0,
        transposeB ? 1 : 0,
      );
      return out;
    },
  };
}
