/**
 * Training-mode batch norm on the native addon (./addon.ts), as two kernels of our own,
 * channels on the last axis, with the optional fused epilogues of a ResNet block:
 *
 *   CarpBatchNormForward(x, gamma, beta[, residual]; epsilon, relu, residual)
 *     → [y, mean, variance]   y = BN(x) (+ residual) (then max(0, ·) with relu); biased variance
 *   CarpBatchNormBackward(dy, x, mean, variance, gamma[, y]; epsilon, relu, residual)
 *     → [dx, dgamma, dbeta(, dresidual)]
 *
 * With relu, dy first passes ReLU's gradient (0 where the saved output y is 0); that masked
 * dy is also the residual's gradient.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

/** Our kernel names for batch norm in training mode (float32, channels last). */
export const BN_FORWARD = 'CarpBatchNormForward';
export const BN_BACKWARD = 'CarpBatchNormBackward';
/**
 * Evaluation mode: CarpBatchNormInference(x, scale, shift[, residual]; relu, residual) → y =
 * x·scale + shift (+ residual) (then max(0, ·)), one multi-threaded pass where wasm took
 * two to four single-threaded ones (broadcast multiply and add, the residual add, the ReLU).
 */
export const BN_INFERENCE = 'CarpBatchNormInference';

/**
 * The two configs. Formulas: PyTorch's BatchNorm2d/1d in training mode (§2.1, §2.2)
 * and the closed-form gradient documented at src/models/layers.ts `bnTrainOp`.
 */
/** Attributes of both kernels. */
export interface BatchNormAttrs {
  epsilon: number;
  /** A ReLU fused after the normalisation (and the residual). */
  relu: boolean;
  /** A residual input added after the normalisation. */
  residual: boolean;
}

export function batchNormConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const forward: tf.KernelConfig = {
    kernelName: BN_FORWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, gamma, beta, residual } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon, relu, residual: hasResidual } = args.attrs as unknown as BatchNormAttrs;
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_FORWARD, x, c, [gamma, beta]);
      if (hasResidual) checkLikeX(BN_FORWARD, 'residual', residual, x);
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
        hasResidual ? off(residual) : 0,
        off(y),
        off(mean),
        off(variance),
        size(x) / c,
        c,
        epsilon,
        relu ? 1 : 0,
        hasResidual ? 1 : 0,
      );
      return [y, mean, variance];
    },
  };
  const backward: tf.KernelConfig = {
    kernelName: BN_BACKWARD,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { dy, x, mean, variance, gamma, y } = args.inputs as Record<string, tf.TensorInfo>;
      const { epsilon, relu, residual: hasResidual } = args.attrs as unknown as BatchNormAttrs;
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_BACKWARD, x, c, [mean, variance, gamma]);
      checkLikeX(BN_BACKWARD, 'dy', dy, x);
      if (relu) checkLikeX(BN_BACKWARD, 'y', y, x);
      const b = heapBackend(args);
      const dx = b.makeOutput(x.shape, 'float32');
      const dgamma = b.makeOutput([c], 'float32');
      const dbeta = b.makeOutput([c], 'float32');
      const dresidual = hasResidual ? b.makeOutput(x.shape, 'float32') : undefined;
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
        dresidual ? off(dresidual) : 0,
        size(x) / c,
        c,
        epsilon,
        relu ? 1 : 0,
        hasResidual ? 1 : 0,
      );
      return dresidual ? [dx, dgamma, dbeta, dresidual] : [dx, dgamma, dbeta];
    },
  };
  const inference: tf.KernelConfig = {
    kernelName: BN_INFERENCE,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, scale, shift, residual } = args.inputs as Record<string, tf.TensorInfo>;
      const { relu, residual: hasResidual } = args.attrs as unknown as BatchNormAttrs;
      const c = x.shape[x.shape.length - 1];
      checkBatchNorm(BN_INFERENCE, x, c, [scale, shift]);
      if (hasResidual) checkLikeX(BN_INFERENCE, 'residual', residual, x);
      const b = heapBackend(args);
      const y = b.makeOutput(x.shape, 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      addon.batchNormInference(
        b.wasm.HEAPU8,
        off(x),
        off(scale),
        off(shift),
        hasResidual ? off(residual) : 0,
        off(y),
        size(x) / c,
        c,
        relu ? 1 : 0,
        hasResidual ? 1 : 0,
      );
      return y;
    },
  };
  return [forward, backward, inference];
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

function checkLikeX(name: string, what: string, t: tf.TensorInfo | undefined, x: tf.TensorInfo) {
  tf.util.assert(
    t !== undefined && t.dtype === 'float32' && tf.util.arraysEqual(t.shape, x.shape),
    () => `${name}: ${what} must be float32 shaped like x [${x.shape.join(',')}]`,
  );
}
