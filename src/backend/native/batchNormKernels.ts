/**
 * Training-mode batch norm on the native addon (./addon.ts), as two kernels of our own:
 * `CarpBatchNormForward(x, gamma, beta; epsilon, relu)` → `[y, mean, variance]` (biased
 * variance; with `relu`, y = max(0, BN(x))) and
 * `CarpBatchNormBackward(dy, x, mean, variance, gamma[, y]; epsilon, relu)` →
 * `[dx, dgamma, dbeta]` (with `relu`, dy first passes ReLU's gradient, masked where the
 * saved output y ≤ 0), channels on the last axis. src/models/layers.ts uses them where the active backend has
 * them (wasm with the addon), and its tfjs composite elsewhere.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

/** Our kernel names for batch norm in training mode (float32, channels last). */
export const BN_FORWARD = 'CarpBatchNormForward';
export const BN_BACKWARD = 'CarpBatchNormBackward';

/**
 * The two configs. Formulas: PyTorch's BatchNorm2d/1d in training mode (spec §2.1, §2.2)
 * and the closed-form gradient documented at src/models/layers.ts `bnTrainOp`.
 */
/** Attributes of both kernels. */
export interface BatchNormAttrs {
  epsilon: number;
  /** A ReLU fused after the normalisation. */
  relu: boolean;
}

export function batchNormConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const forward: tf.KernelConfig = {
    kernelName: BN_FORWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon, relu } = args.attrs as unknown as BatchNormAttrs;
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
        relu ? 1 : 0,
      );
      return [y, mean, variance];
    },
  };
  const backward: tf.KernelConfig = {
    kernelName: BN_BACKWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x, mean, variance, gamma, y } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon, relu } = args.attrs as unknown as BatchNormAttrs;
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_BACKWARD, x, c, [mean, variance, gamma]);
      for (const [name, t] of relu
        ? [['dy', dy] as const, ['y', y] as const]
        : [['dy', dy] as const]) {
        tf.util.assert(
          t !== undefined && tf.util.arraysEqual(t.shape, x.shape) && t.dtype === 'float32',
          () => `${BN_BACKWARD}: ${name} must be float32 shaped like x [${x.shape.join(',')}]`,
        );
      }
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
        relu ? off(y) : 0,
        off(dx),
        off(dgamma),
        off(dbeta),
        size(x) / c,
        c,
        epsilon,
        relu ? 1 : 0,
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
