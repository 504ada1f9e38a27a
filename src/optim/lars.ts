/**
 * LARS as the CARP reference implements it (§5.2), as a tfjs optimizer.
 *
 * For each parameter p with gradient g (parameters without a gradient are skipped):
 *   rank ≠ 1:  u = g + λ·p;  r = η·‖p‖/‖u‖ if both norms > 0 else 1;  u ← r·u
 *   rank = 1:  u = g        (no weight decay, no trust ratio: plain heavy-ball SGD)
 *   M ← μ·M + u;  p ← p − lr·M
 *
 * Sources: DINO/CARP `utils.LARS` (its filter arguments are ignored; the test is
 * `p.ndim != 1`), tfjs `MomentumOptimizer` for the shape (momentum buffers created
 * lazily as non-trainable variables, one tidy per variable, `dispose()`).
 *
 * Differences from tfjs' MomentumOptimizer, on purpose:
 * - hyper-parameters are plain numbers read at every step (tfjs caches momentum as a
 *   scalar tensor, so `setMomentum` has no effect there);
 * - momentum buffers are keyed by variable name, not by position in the gradient map,
 *   so a step with a different variable set cannot mix buffers up;
 * - no buffer is created for a variable whose gradient is missing (frozen gains).
 *
 * Weight decay λ applies only to the regularised group of §5.1 (rank > 1 and not a
 * bias); a rank-0 parameter therefore gets the trust ratio but no decay, exactly as the
 * reference's `ndim != 1` test combined with its zero-decay group would do.
 */
import { tf } from '../backend/tf';
import type { Tensor, Variable } from '../backend/tf';
import { isRegularised } from './parameterGroups';
import { CARP_LARS_STEP, type LarsStepAttrs } from '../backend/native/optimizerKernels';

export interface LARSOptions {
  /** Learning rate of the next step (the trainer writes the schedule value each step). */
  learningRate: number;
  /** Weight decay λ of the next step (regularised group only). */
  weightDecay: number;
  /** Heavy-ball momentum μ (default 0.9). */
  momentum?: number;
  /** Trust coefficient η (default 0.001). */
  eta?: number;
}

/** tfjs' `NamedTensor` (not re-exported from tfjs-core's index). */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

const MOMENTUM_SUFFIX = '/momentum';

function checkFinite(value: number, name: string, nonNegative = true): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (nonNegative && value < 0)) {
    throw new Error(
      `LARS: ${name} must be a finite${nonNegative ? ' non-negative' : ''} number, got ${value}`,
    );
  }
  return value;
}

export class LARS extends tf.Optimizer {
  static get className(): string {
    return 'CarpLARS';
  }

  private learningRate: number;
  private weightDecay: number;
  private momentum: number;
  private readonly eta: number;
  /** Momentum buffer per parameter name, in creation order. */
  private buffers = new Map<string, Variable>();

  constructor(options: LARSOptions) {
    super();
    this.learningRate = checkFinite(options.learningRate, 'learningRate');
    this.weightDecay = checkFinite(options.weightDecay, 'weightDecay');
    this.momentum = checkFinite(options.momentum ?? 0.9, 'momentum');
    this.eta = checkFinite(options.eta ?? 0.001, 'eta');
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = checkFinite(learningRate, 'learningRate');
  }

  setWeightDecay(weightDecay: number): void {
    this.weightDecay = checkFinite(weightDecay, 'weightDecay');
  }

  setMomentum(momentum: number): void {
    this.momentum = checkFinite(momentum, 'momentum');
  }

  /** One LARS step for every variable in the map that has a gradient (§5.2). */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: [string, Tensor | null | undefined][] = Array.isArray(variableGradients)
      ? variableGradients.map((g) => [g.name, g.tensor])
      : Object.entries(variableGradients);
    const { learningRate: lr, weightDecay, momentum: mu, eta } = this;
    const native = tf.getKernel(CARP_LARS_STEP, tf.getBackend()) !== undefined;
    for (const [name, grad] of entries) {
      if (grad == null) continue; // frozen / unused parameter: skipped, as in the reference
      const param = tf.engine().registeredVariables[name];
      if (param == null) throw new Error(`LARS: no variable named '${name}' is registered`);
      tf.util.assert(
        tf.util.arraysEqual(grad.shape, param.shape),
        () =>
          `LARS: gradient for '${name}' has shape [${grad.shape}], the variable [${param.shape}]`,
      );
      let buffer = this.buffers.get(name);
      if (buffer == null) {
        buffer = tf.tidy(() => tf.zerosLike(param).variable(false));
        this.buffers.set(name, buffer);
      }
      tf.util.assert(
        tf.util.arraysEqual(buffer.shape, param.shape),
        () =>
          `LARS: momentum buffer for '${name}' has shape [${buffer?.shape}], the variable [${param.shape}]`,
      );
      const velocity = buffer;
      const decay = param.rank !== 1 && isRegularised(name, param.rank) ? weightDecay : 0;
      if (native && param.dtype === 'float32') {
        // One native pass (src/backend/native/optimizerKernels.ts), the formula below.
        const attrs: LarsStepAttrs = {
          learningRate: lr,
          decay,
          momentum: mu,
          eta,
          trust: param.rank !== 1,
        };
        const [p2, v2] = tf
          .engine()
          .runKernel(
            CARP_LARS_STEP,
            { param, grad, velocity },
            attrs as unknown as tf.NamedAttrMap,
          ) as Tensor[];
        velocity.assign(v2);
        param.assign(p2);
        tf.dispose([p2, v2]);
        continue;
      }
      tf.tidy(() => {
        let u: Tensor = grad;
        if (param.rank !== 1) {
          if (decay !== 0) u = tf.add(u, tf.mul(param, decay));
          // √Σx², not tf.norm: that is √Σ|x|^2 through abs and pow, two extra full passes
          // (pow is a libm call per element on wasm), which made LARS ≈ 15 % of a step.
          const pNorm = tf.sqrt(tf.sum(tf.square(param)));
          const uNorm = tf.sqrt(tf.sum(tf.square(u)));
          const usable = tf.logicalAnd(tf.greater(pNorm, 0), tf.greater(uNorm, 0));
          // The unselected branch may be inf/NaN when a norm is 0; `where` discards it.
          const trust = tf.where(usable, tf.div(tf.mul(pNorm, eta), uNorm), tf.onesLike(pNorm));
          u = tf.mul(u, trust);
        }
        const newVelocity = tf.add(tf.mul(velocity, mu), u);
        velocity.assign(newVelocity);
        param.assign(tf.sub(param, tf.mul(newVelocity, lr)));
      });
    }
    this.incrementIterations();
  }

  /** Frees the momentum buffers (the parameters belong to the caller). */
  override dispose(): void {
    super.dispose();
    tf.dispose([...this.buffers.values()]);
    this.buffers.clear();
  }

  /**
   * The step counter then one `<variable name>/momentum` tensor per buffer, for checkpoints
   * (§8: optimizer momentum "mu" per parameter). The returned iteration scalar is new and
   * owned by the caller; the buffer tensors are the live variables (do not dispose).
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, v] of this.buffers) weights.push({ name: name + MOMENTUM_SUFFIX, tensor: v });
    return weights;
  }

  /** Restores what `getWeights` produced (copies the tensors; replaces current buffers). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    for (const { name } of rest) {
      if (!name.endsWith(MOMENTUM_SUFFIX)) {
        throw new Error(
          `LARS.setWeights: '${name}' is not a '<variable>${MOMENTUM_SUFFIX}' buffer`,
        );
      }
    }
    tf.dispose([...this.buffers.values()]);
    this.buffers = new Map(
      rest.map(({ name, tensor }) => [
        name.slice(0, -MOMENTUM_SUFFIX.length),
        tf.tidy(() => tf.clone(tensor).variable(false)),
      ]),
    );
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      weightDecay: this.weightDecay,
      momentum: this.momentum,
      eta: this.eta,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      learningRate: config.learningRate,
      weightDecay: config.weightDecay,
      momentum: config.momentum,
      eta: config.eta,
    });
  }
}

tf.serialization.registerClass(LARS);
