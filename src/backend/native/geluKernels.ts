/**
 * GELU (exact, erf-based: §2.2) and its gradient as two kernels of ours on the native
 * addon (native/gelu.h), for the head's hidden layers:
 *
 *   CarpGelu(x) → y = ½·x·(1 + erf(x/√2))
 *   CarpGeluGrad(dy, x) → dx = dy·(Φ(x) + x·φ(x))
 *
 * Why: the tfjs composite is five single-threaded wasm kernels forward and about ten on
 * the tape backward, with a scalar erf and exp (≈ 20 ms of a width-8 micro-step for the
 * head's GELUs on [768, 512]); here one multi-threaded vector pass each way. `gelu` in
 * src/models/layers.ts takes them where they are registered.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

export const CARP_GELU = 'CarpGelu';
export const CARP_GELU_GRAD = 'CarpGeluGrad';

function checkFloat(kernel: string, name: string, t: tf.TensorInfo, like?: tf.TensorInfo): void {
  if (t.dtype !== 'float32' || size(t) === 0) {
    throw new Error(
      `${kernel}: ${name} must be a non-empty float32 tensor, got ${t.dtype} [${t.shape}]`,
    );
  }
  if (like && !tf.util.arraysEqual(t.shape, like.shape)) {
    throw new Error(`${kernel}: ${name} has shape [${t.shape}], expected [${like.shape}] like x`);
  }
}

export function geluConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const forward: tf.KernelConfig = {
    kernelName: CARP_GELU,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      checkFloat(CARP_GELU, 'x', x);
      const b = heapBackend(args);
      const y = b.makeOutput(x.shape, 'float32');
      addon.gelu(b.wasm.HEAPU8, b.getMemoryOffset(x.dataId), b.getMemoryOffset(y.dataId), size(x));
      return y;
    },
  };
  const backward: tf.KernelConfig = {
    kernelName: CARP_GELU_GRAD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
      checkFloat(CARP_GELU_GRAD, 'x', x);
      checkFloat(CARP_GELU_GRAD, 'dy', dy, x);
      const b = heapBackend(args);
      const dx = b.makeOutput(x.shape, 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      addon.geluGrad(b.wasm.HEAPU8, off(dy), off(x), off(dx), size(x));
      return dx;
    },
  };
  return [forward, backward];
}
