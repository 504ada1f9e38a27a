/**
 * Training-mode batch norm on the native addon (./addon.ts), as two kernels of our own:
 * `CarpBatchNormForward(x, gamma, beta; epsilon)` → `[y, mean, variance]` (biased variance)
 * and `CarpBatchNormBackward(dy, x, mean, variance, gamma; epsilon)` → `[dx, dgamma, dbeta]`,
 * channels on the last axis. src/models/layers.ts uses them where the active backend has
 * them (wasm with the addon), and its tfjs composite elsewhere.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

/** Our kernel names for batch norm in training mode (float32, channels last). */
export const BN_FORWARD = 'CarpBatchNormForward';
export const BN_BACKWARD = 'CarpBatchNormBackward';

/**
 * `CarpBatchNormForward(x, gamma, beta; epsilon)` → `[y, mean, variance]` (biased variance)
 * and `CarpBatchNormBackward(dy, x, mean, variance, gamma; epsilon)` → `[dx, dgamma, dbeta]`,
 * channels on the last axis. Formulas: PyTorch's BatchNorm2d/1d in training mode (spec
 * §2.1, §2.2) and the closed-form gradient documented at src/models/layers.ts `bnTrainOp`.
 */
export function batchNormConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const forward: tf.KernelConfig = {
    kernelName: BN_FORWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon } = args.attrs as unknown as { epsilon: number };
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_FORWARD, x, c, [gamma, beta]);
      const b = heapBackend(args);
      const y = b.makeOutput(x.shape, 'float32');
      const mean = b.makeOutput([c], 'float32');
      const variance = b.makeOutput([c], 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      addon.batchNormForward(
        b.wasm.HEAPU8,
        off(x),
        off(gamma),
        off(beta),
        off(y),
        off(mean),
        off(variance),
        size(x) / c,
        c,
        epsilon,
      );
      return [y, mean, variance];
    },
  };
  const backward: tf.KernelConfig = {
    kernelName: BN_BACKWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x, mean, variance, gamma } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon } = args.attrs as unknown as { epsilon: number };
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_BACKWARD, x, c, [mean, variance, gamma]);
      tf.util.assert(
        tf.util.arraysEqual(dy.shape, x.shape) && dy.dtype === 'float32',
        () => `${BN_BACKWARD}: dy [${dy.shape.join(',')}] must be float32 shaped like x`,
      );
      const b = heapBackend(args);
      const dx = b.makeOutput(x.shape, 'float32');
      const dgamma = b.makeOutput([c], 'float32');
      const dbeta = b.makeOutput([c], 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      addon.batchNormBackward(
        b.wasm.HEAPU8,
        off(dy),
        off(x),
        off(mean),
        off(variance),
        off(gamma),
        off(dx),
        off(dgamma),
        off(dbeta),
        size(x) / c,
        c,
        epsilon,
      );
      return [dx, dgamma, dbeta];
    },
  };
  return [forward, backward];
}

function checkBatchNorm(name: string, x: tf.TensorInfo, c: number, perChannel: tf.TensorInfo[]) {
  tf.util.assert(
    x.dtype === 'float32' && size(x) > 0 && x.shape.length >= 2,
    () => `${name}: x must be a non-empty float32 tensor of rank ≥ 2, got [${x.shape.join(',')}]`,
  );
  for (const t of perChannel) {
    tf.util.assert(
      t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === c,
      () => `${name}: per-channel inputs must be float32 [${c}], got [${t.shape.join(',')}]`,
    );
  }
}
