/**
 * The optimiser's element-wise updates as kernels of ours on the native addon
 * (native/optimizerStep.h), one call per parameter tensor:
 *
 *   CarpLarsStep(param, grad, velocity; learningRate, decay, momentum, eta, trust)
 *     → [param', velocity']   (LARS, §5.2: src/optim/lars.ts states the formula)
 *   CarpEmaStep(teacher, student; momentum) → teacher' = m·teacher + (1 − m)·student (§2.4)
 *
 * Why: in tfjs ops a LARS update is ≈ 13 single-threaded kernels per weight tensor and the
 * EMA 3, ≈ 750 kernel calls per step for ResNet-18 + head, where tfjs's bookkeeping per
 * call costs more than the arithmetic at narrow widths. src/optim/lars.ts and
 * src/carp/teacherEma.ts take these where they are registered.
 */
import { tf } from '../tf';
import type { NativeAddon } from './addon';
import { heapBackend, size } from './heap';

export const CARP_LARS_STEP = 'CarpLarsStep';
export const CARP_EMA_STEP = 'CarpEmaStep';

/** Attributes of `CarpLarsStep`. */
export interface LarsStepAttrs {
  learningRate: number;
  /** The weight decay applied to this tensor (0 where it is not regularised). */
  decay: number;
  momentum: number;
  eta: number;
  /** Scale by the trust ratio η‖p‖/‖u‖ (every tensor but 1-D ones). */
  trust: boolean;
}

function checkLike(kernel: string, name: string, t: tf.TensorInfo, like: tf.TensorInfo): void {
  if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, like.shape)) {
    throw new Error(
      `${kernel}: ${name} must be float32 [${like.shape}] like the parameter, got ${t.dtype} [${t.shape}]`,
    );
  }
}

export function optimizerConfigs(addon: NativeAddon): tf.KernelConfig[] {
  const lars: tf.KernelConfig = {
    kernelName: CARP_LARS_STEP,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { param, grad, velocity } = args.inputs as Record<string, tf.TensorInfo>;
      const a = args.attrs as unknown as LarsStepAttrs;
      checkLike(CARP_LARS_STEP, 'param', param, param);
      checkLike(CARP_LARS_STEP, 'grad', grad, param);
      checkLike(CARP_LARS_STEP, 'velocity', velocity, param);
      const b = heapBackend(args);
      const p2 = b.makeOutput(param.shape, 'float32');
      const v2 = b.makeOutput(param.shape, 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      if (size(param) > 0) {
        addon.larsStep(
          b.wasm.HEAPU8,
          off(param),
          off(grad),
          off(velocity),
          off(p2),
          off(v2),
          size(param),
          a.learningRate,
          a.decay,
          a.momentum,
          a.eta,
          a.trust ? 1 : 0,
        );
      }
      return [p2, v2];
    },
  };
  const ema: tf.KernelConfig = {
    kernelName: CARP_EMA_STEP,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { teacher, student } = args.inputs as Record<string, tf.TensorInfo>;
      const { momentum } = args.attrs as unknown as { momentum: number };
      checkLike(CARP_EMA_STEP, 'teacher', teacher, teacher);
      checkLike(CARP_EMA_STEP, 'student', student, teacher);
      const b = heapBackend(args);
      const out = b.makeOutput(teacher.shape, 'float32');
      const off = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
      if (size(teacher) > 0) {
        addon.emaStep(
          b.wasm.HEAPU8,
          off(teacher),
          off(student),
          off(out),
          size(teacher),
          momentum,
          1 - momentum,
        );
      }
      return out;
    },
  };
  return [lars, ema];
}
