/**
 * `Identity` for the wasm backend: the output shares the input's data (one more reference)
 * instead of copying it, as the cpu backend's `Identity` and wasm's own `Reshape` do.
 *
 * Why: tfjs clones every tensor it keeps for a gradient (the inputs and outputs a kernel's
 * gradient needs, and everything a `customGrad` saves) through `Identity`, and wasm's
 * built-in copies the buffer. In a cifar10-r18 micro-step that was 660 full copies of
 * activations (≈ 90 ms and as much heap again for the saved tensors). Sharing is safe:
 * tfjs tensors are immutable, and no wasm kernel writes into an input's memory.
 */
import { tf } from '../tf';

/** Kernel config for `backendName` (wasm); strings keep the built-in's copy. */
export function identityConfig(backendName: string, builtin: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return builtin.kernelFunc(args);
      (args.backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}
