/**
 * The few layers the CARP network needs, as pure functions of their parameters
 * (§2.1, §2.2). Activations are NHWC (`[N, H, W, C]`) or `[N, C]`.
 *
 * Batch normalisation follows PyTorch exactly (§2.1: eps 1e-5, momentum 0.1):
 * - training mode normalises with the batch mean and the *biased* batch variance and
 *   updates the running statistics with the *unbiased* variance:
 *   `running ← (1 − 0.1)·running + 0.1·batch_stat`, `num_batches_tracked += 1`;
 * - evaluation mode normalises with the running statistics.
 * Running-stat updates are not applied during the forward: they are recorded in a
 * `BatchNormUpdates` collector and applied by the caller after the gradient tape
 * (`apply()`), in recording order — the order PyTorch applies them in.
 */
import { tf } from '../backend/tf';
import type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from '../backend/tf';
import type { ParamScope } from './params';
import { BN_BACKWARD, BN_FORWARD, BN_INFERENCE } from '../backend/native/batchNormKernels';
import { CARP_GELU, CARP_GELU_GRAD } from '../backend/native/geluKernels';
import {
  CARP_CONV_BN_INFERENCE,
  foldableGeometry,
  type ConvBnAttrs,
} from '../backend/native/convBnKernel';

/** PyTorch BatchNorm defaults (§2.1). */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** Options of every forward function. */
export interface ForwardOptions {
  /** BN uses batch statistics (true) or running statistics (false). */
  training: boolean;
  /**
   * Where training-mode BN layers record their running-stat updates. Without one, the
   * updates are dropped (useful for gradient checks); the trainer always passes one.
   */
  bnUpdates?: BatchNormUpdates;
  /**
   * Evaluation mode when no gradient will be taken (feature extraction): each conv → BN
   * (→ + residual) (→ ReLU) may run as one native kernel with the norm folded into the
   * convolution (`convBatchNorm`); the same values to float32 rounding.
   */
  folded?: boolean;
}

interface PendingUpdate {
  runningMean: Variable;
  runningVar: Variable;
  count: Variable;
  mean: Tensor1D;
  varUnbiased: Tensor1D;
}

/** Owner of the running-stat updates recorded by training-mode forwards. */
export class BatchNormUpdates {
  private pending: PendingUpdate[] = [];

  /** Number of recorded (not yet applied) layer updates. */
  get size(): number {
    return this.pending.length;
  }

  /** Records one layer's batch statistics; keeps them alive past any enclosing tidy. */
  record(p: ParamScope, prefix: string, mean: Tensor1D, varUnbiased: Tensor1D): void {
    this.pending.push({
      runningMean: p.get(`${prefix}.running_mean`),
      runningVar: p.get(`${prefix}.running_var`),
      count: p.get(`${prefix}.num_batches_tracked`),
      mean: tf.keep(mean),
      varUnbiased: tf.keep(varUnbiased),
    });
  }

  /** Applies every recorded update in order (running ← (1−m)·running + m·batch), then clears. */
  apply(momentum = BN_MOMENTUM): void {
    for (const u of this.pending) {
      tf.tidy(() => {
        u.runningMean.assign(tf.add(tf.mul(u.runningMean, 1 - momentum), tf.mul(u.mean, momentum)));
        u.runningVar.assign(
          tf.add(tf.mul(u.runningVar, 1 - momentum), tf.mul(u.varUnbiased, momentum)),
        );
        u.count.assign(tf.add(u.count, tf.scalar(1, 'int32')));
      });
    }
    this.dispose();
  }

  /** Drops the recorded updates without applying them. */
  dispose(): void {
    for (const u of this.pending) tf.dispose([u.mean, u.varUnbiased]);
    this.pending = [];
  }
}

/** Registers a BN layer's entries in PyTorch's order: weight, bias, running_mean, running_var, num_batches_tracked. */
export function initBatchNorm(p: ParamScope, prefix: string, channels: number, gamma = 1): void {
  p.add(`${prefix}.weight`, tf.fill([channels], gamma), 'trainable');
  p.add(`${prefix}.bias`, tf.zeros([channels]), 'trainable');
  p.add(`${prefix}.running_mean`, tf.zeros([channels]), 'buffer');
  p.add(`${prefix}.running_var`, tf.ones([channels]), 'buffer');
  p.add(`${prefix}.num_batches_tracked`, tf.scalar(0, 'int32'), 'buffer');
}

/**
 * Training-mode normalisation with a closed-form gradient (the textbook BN backward):
 * dβ = Σdy, dγ = Σdy·x̂, dx = γ·σ⁻¹·(dy − dβ/N − x̂·dγ/N). One fused op instead of
 * autodiff through the moments saves several full-size kernels per layer. The batch
 * mean and biased variance are computed inside the op (off the tape) and handed out
 * through `onStats`.
 */
function bnTrainOp(
  axes: number[],
  onStats: (mean: Tensor1D, variance: Tensor1D, n: number) => void,
): (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor {
  const f = (...args: (Tensor | tf.GradSaveFunc)[]) => {
    const [x, gamma, beta] = args as Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const n = axes.reduce((s, a) => s * x.shape[a], 1);
    const { mean, variance } = tf.moments(x, axes);
    onStats(mean as Tensor1D, variance as Tensor1D, n);
    const inv = tf.rsqrt(tf.add(variance, BN_EPS));
    const xhat = tf.mul(tf.sub(x, mean), inv); // PyTorch's (x − μ)·inv: no cancellation
    const y = tf.add(tf.mul(xhat, gamma), beta);
    save([xhat, inv, gamma]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sinv, sgamma] = saved;
        const dbeta = tf.sum(dy, axes);
        const dgamma = tf.sum(tf.mul(dy, sx), axes);
        const centred = tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(sx, tf.div(dgamma, n)));
        const dx = tf.mul(centred, tf.mul(sgamma, sinv));
        return [dx, dgamma, dbeta];
      },
    };
  };
  return tf.customGrad(f);
}

/**
 * The same op on the native kernels (src/backend/native), one multi-threaded pass for the
 * statistics, one for y, and two for the gradient: the composite above costs about six
 * full-size passes forward and seven backward. It saves `x` instead of x̂ (x is alive
 * anyway) and recomputes x̂ in the gradient. With `relu`, the ReLU that follows is fused:
 * y = max(0, BN(x)), and the gradient masks dy where the saved y is 0 (ReLU's gradient,
 * PyTorch's rule: 0 where the input is ≤ 0).
 */
function bnTrainOpNative(
  onStats: (mean: Tensor1D, variance: Tensor1D, n: number) => void,
  relu: boolean,
  residual: boolean,
): (x: Tensor, gamma: Tensor, beta: Tensor, res?: Tensor) => Tensor {
  const engine = tf.engine();
  const attrs = { epsilon: BN_EPS, relu, residual } as unknown as tf.NamedAttrMap;
  const f = (...args: (Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, residual ? 4 : 3) as Tensor[];
    const [x, gamma, beta, res] = inputs;
    const save = args[inputs.length] as tf.GradSaveFunc;
    const fwd: tf.NamedTensorMap = { x, gamma, beta };
    if (residual) fwd.residual = res;
    const [y, mean, variance] = engine.runKernel(BN_FORWARD, fwd, attrs) as Tensor[];
    onStats(mean as Tensor1D, variance as Tensor1D, x.size / x.shape[x.rank - 1]);
    save(relu ? [x, mean, variance, gamma, y] : [x, mean, variance, gamma]);
    return {
      value: y,
      // [dx, dγ, dβ] and, with a residual, its gradient (ReLU's masked dy).
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, smean, svar, sgamma, sy] = saved;
        const bwd: tf.NamedTensorMap = { dy, x: sx, mean: smean, variance: svar, gamma: sgamma };
        if (relu) bwd.y = sy;
        return engine.runKernel(BN_BACKWARD, bwd, attrs) as Tensor[];
      },
    };
  };
  return tf.customGrad(f) as (x: Tensor, gamma: Tensor, beta: Tensor, res?: Tensor) => Tensor;
}

/**
 * Evaluation-mode batch norm on the native kernel: y = x·scale + shift (PyTorch's formula,
 * as the composite), with the block's residual add and ReLU fused, in one multi-threaded
 * pass. Its gradient (a frozen-statistics fine-tune) is plain tfjs ops: the masked dy
 * (0 where y = 0 with `relu`) times scale for x, its sums for shift and with x for scale,
 * itself for the residual.
 */
function bnInferenceOpNative(
  relu: boolean,
  residual: boolean,
  axes: number[],
): (x: Tensor, scale: Tensor, shift: Tensor, res?: Tensor) => Tensor {
  const attrs = { relu, residual } as unknown as tf.NamedAttrMap;
  const f = (...args: (Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, residual ? 4 : 3) as Tensor[];
    const [x, scale, shift, res] = inputs;
    const save = args[inputs.length] as tf.GradSaveFunc;
    const map: tf.NamedTensorMap = { x, scale, shift };
    if (residual) map.residual = res;
    const y = tf.engine().runKernel(BN_INFERENCE, map, attrs) as Tensor;
    save(relu ? [x, scale, y] : [x, scale]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sscale, sy] = saved;
        const d = relu ? tf.where(tf.greater(sy, 0), dy, tf.zerosLike(dy)) : dy;
        const grads = [tf.mul(d, sscale), tf.sum(tf.mul(d, sx), axes), tf.sum(d, axes)];
        return residual ? [...grads, d] : grads;
      },
    };
  };
  return tf.customGrad(f) as (x: Tensor, scale: Tensor, shift: Tensor, res?: Tensor) => Tensor;
}

/** Whether the active backend has the native batch-norm kernels (wasm + native addon). */
function hasNativeBatchNorm(): boolean {
  return tf.getKernel(BN_FORWARD, tf.getBackend()) !== undefined;
}

/**
 * BatchNorm over the last (channel) axis of `[N, C]` or `[N, H, W, C]` input.
 * Statistics are over all other axes (BatchNorm1d / BatchNorm2d semantics).
 */
export function batchNorm<T extends Tensor2D | Tensor4D>(
  p: ParamScope,
  prefix: string,
  x: T,
  opts: ForwardOptions,
): T {
  return batchNormMaybeRelu(p, prefix, x, opts, false);
}

/**
 * `relu(batchNorm(…))`, the pair in every ResNet block. Where the native batch-norm
 * kernels run (training and evaluation mode), the ReLU is fused into them: two
 * single-threaded wasm passes forward and two backward less per layer. Elsewhere it is
 * exactly `tf.relu(batchNorm(…))`.
 */
export function batchNormRelu<T extends Tensor2D | Tensor4D>(
  p: ParamScope,
  prefix: string,
  x: T,
  opts: ForwardOptions,
): T {
  if (hasNativeBatchNorm()) return batchNormMaybeRelu(p, prefix, x, opts, true);
  return tf.relu(batchNormMaybeRelu(p, prefix, x, opts, false));
}

/**
 * `relu(batchNorm(…) + residual)`, the end of every ResNet block. Fused into the native
 * batch norm in training and evaluation mode (the add and the ReLU, forward and backward); elsewhere
 * exactly `tf.relu(tf.add(batchNorm(…), residual))`.
 */
export function batchNormAddRelu<T extends Tensor2D | Tensor4D>(
  p: ParamScope,
  prefix: string,
  x: T,
  residual: T,
  opts: ForwardOptions,
): T {
  if (hasNativeBatchNorm()) return batchNormMaybeRelu(p, prefix, x, opts, true, residual);
  return tf.relu(tf.add(batchNormMaybeRelu(p, prefix, x, opts, false), residual)) as T;
}

function batchNormMaybeRelu<T extends Tensor2D | Tensor4D>(
  p: ParamScope,
  prefix: string,
  x: T,
  opts: ForwardOptions,
  relu: boolean,
  residual?: T,
): T {
  const gamma = p.get(`${prefix}.weight`);
  const beta = p.get(`${prefix}.bias`);
  const axes = x.rank === 4 ? [0, 1, 2] : [0];
  if (!opts.training) {
    // y = x·scale + shift with per-channel scale/shift: two full-size ops.
    const { scale, shift } = inferenceScaleShift(p, prefix);
    if (hasNativeBatchNorm()) {
      const op = bnInferenceOpNative(relu, residual !== undefined, axes);
      return (residual ? op(x, scale, shift, residual) : op(x, scale, shift)) as T;
    }
    tf.util.assert(
      !relu && !residual,
      () => 'batchNorm: a fused ReLU or residual needs the native kernels',
    );
    return tf.add(tf.mul(x, scale), shift) as T;
  }
  const onStats = (mean: Tensor1D, variance: Tensor1D, n: number): void => {
    if (n < 2) {
      throw new Error(
        `batchNorm(${p.prefix}${prefix}): training mode needs more than 1 value per channel, got ${n}`,
      );
    }
    if (opts.bnUpdates) {
      // PyTorch updates running_var with the unbiased estimate (factor n / (n − 1)).
      opts.bnUpdates.record(p, prefix, mean.clone(), tf.mul(variance, n / (n - 1)));
    }
  };
  if (hasNativeBatchNorm()) {
    const op = bnTrainOpNative(onStats, relu, residual !== undefined);
    return (residual ? op(x, gamma, beta, residual) : op(x, gamma, beta)) as T;
  }
  tf.util.assert(
    !relu && !residual,
    () => 'batchNorm: a fused ReLU or residual needs the native kernels',
  );
  return bnTrainOp(axes, onStats)(x, gamma, beta) as T;
}

/**
 * Evaluation-mode batch norm as y = x·scale + shift: scale = γ/√(running σ² + ε), shift =
 * β − running μ·scale (PyTorch's formula), per channel.
 */
function inferenceScaleShift(p: ParamScope, prefix: string): { scale: Tensor1D; shift: Tensor1D } {
  const gamma = p.get(`${prefix}.weight`);
  const rm = p.get(`${prefix}.running_mean`);
  const rv = p.get(`${prefix}.running_var`);
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(rv, BN_EPS))) as Tensor1D;
  const shift = tf.sub(p.get(`${prefix}.bias`), tf.mul(rm, scale)) as Tensor1D;
  return { scale, shift };
}

/**
 * conv2d → batch norm `prefix` (→ + residual) (→ ReLU): the unit of a ResNet. With
 * `opts.folded` in evaluation mode, where the native kernel is registered and takes the
 * geometry, one kernel with the norm folded into the convolution and the residual and
 * ReLU as its epilogue (src/backend/native/convBnKernel.ts; no gradient). Otherwise
 * exactly `conv2d` then `batchNorm`, `batchNormRelu` or `batchNormAddRelu`.
 */
export function convBatchNorm(
  p: ParamScope,
  prefix: string,
  x: Tensor4D,
  kernel: Tensor,
  stride: number,
  pad: number,
  opts: ForwardOptions,
  epilogue: { relu: boolean; residual?: Tensor4D },
): Tensor4D {
  const { relu, residual } = epilogue;
  tf.util.assert(!residual || relu, () => 'convBatchNorm: a residual comes with its ReLU');
  if (
    !opts.training &&
    opts.folded === true &&
    x.dtype === 'float32' &&
    tf.getKernel(CARP_CONV_BN_INFERENCE, tf.getBackend()) !== undefined
  ) {
    const attrs: ConvBnAttrs = {
      strides: stride,
      pad: pad === 0 ? 'valid' : paddingOf(pad),
      relu,
      residual: residual !== undefined,
    };
    if (foldableGeometry(x.shape, kernel.shape, attrs)) {
      return tf.tidy(() => {
        const { scale, shift } = inferenceScaleShift(p, prefix);
        const inputs: tf.NamedTensorMap = { x, filter: kernel, scale, shift };
        if (residual) inputs.residual = residual;
        return tf
          .engine()
          .runKernel(
            CARP_CONV_BN_INFERENCE,
            inputs,
            attrs as unknown as tf.NamedAttrMap,
          ) as Tensor4D;
      });
    }
  }
  const y = conv2d(x, kernel, stride, pad);
  if (residual) return batchNormAddRelu(p, prefix, y, residual, opts);
  return relu ? batchNormRelu(p, prefix, y, opts) : batchNorm(p, prefix, y, opts);
}

/** PyTorch's symmetric zero padding as tfjs's explicit padding (NHWC). */
function paddingOf(
  pad: number,
): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
}

/** Bias-free convolution with PyTorch's symmetric zero padding; kernel `[kh, kw, in, out]`. */
export function conv2d(x: Tensor4D, kernel: Tensor, stride: number, pad: number): Tensor4D {
  return tf.conv2d(x, kernel as Tensor4D, stride, pad === 0 ? 'valid' : paddingOf(pad));
}

/** PyTorch's `nn.Linear`: `x·Wᵀ + b` with W stored `[out, in]`. */
export function linear(x: Tensor2D, weight: Tensor, bias?: Tensor): Tensor2D {
  const y: Tensor2D = tf.matMul(x, weight as Tensor2D, false, true);
  return bias ? tf.add<Tensor2D>(y, bias) : y;
}

/**
 * Exact (erf-based) GELU, PyTorch's default (§2.2): one native kernel each way where the
 * addon is loaded (src/backend/native/geluKernels.ts), else the tfjs composite.
 */
export function gelu<T extends Tensor>(x: T): T {
  if (x.dtype === 'float32' && x.size > 0 && tf.getKernel(CARP_GELU, tf.getBackend())) {
    return nativeGelu(x);
  }
  return tf.mul(tf.mul(x, tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)), 0.5) as T;
}

function nativeGelu<T extends Tensor>(x: T): T {
  // Built per call: nothing engine-bound at module scope (architecture §6.7).
  const op = tf.customGrad((...args) => {
    const input = args[0] as Tensor;
    (args[1] as tf.GradSaveFunc)([input]);
    return {
      value: tf.engine().runKernel(CARP_GELU, { x: input }) as Tensor,
      gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) =>
        tf.engine().runKernel(CARP_GELU_GRAD, { dy: dy as Tensor, x: saved[0] }) as Tensor,
    };
  });
  return op(x) as T;
}

/** 3×3 max-pool, stride 2, padding 1 (the ImageNet stem); padded cells never win. */
export function maxPoolStem(x: Tensor4D): Tensor4D {
  return tf.maxPool(x, 3, 2, 1);
}
