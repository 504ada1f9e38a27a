/**
 * Parameter store: the named, ordered tensors of one network (§2, §8).
 *
 * Names follow the reference's `state_dict` keys so checkpoints map one-to-one:
 * `backbone.conv1.weight`, `backbone.layer1.0.bn1.running_mean`, `head.mlp.0.weight`,
 * `head.last_layer.weight_v` … (the reference adds the data-parallel prefix `module.`;
 * the evaluation loader strips `module.` and `backbone.`, §8).
 *
 * Three kinds of entries, as in PyTorch:
 * - `trainable`: parameters that receive gradients (the optimiser's variables);
 * - `frozen`: parameters without gradient (the prototype gains `weight_g`, §2.2).
 *   They are still *parameters*: the teacher EMA averages them (§2.4);
 * - `buffer`: BN running statistics and `num_batches_tracked`; never averaged,
 *   never optimised, updated by training-mode forwards.
 *
 * Layout (differs from PyTorch only for convolutions; see `torchToTfjs`):
 * - conv kernels are stored as tfjs wants them, `[kh, kw, in, out]`; PyTorch's
 *   `[out, in, kh, kw]` maps by the permutation `[2, 3, 1, 0]`;
 * - linear weights keep PyTorch's `[out, in]` (the forward multiplies by the transpose),
 *   so `head.mlp.0.weight` is `[hidden, D]` and `last_layer.weight_v` is `[K, d]` exactly
 *   as in the checkpoint; `num_batches_tracked` is an int32 scalar (int64 there).
 *
 * The store owns its variables: `dispose()` frees them. Variable names registered with the
 * tfjs engine are `<label>/<name>` (made unique per engine), so student and teacher can
 * coexist; `varName()` / `paramNameOf()` translate for optimiser state in checkpoints.
 */
import { tf } from '../backend/tf';
import type { Tensor, Variable } from '../backend/tf';

export type ParamKind = 'trainable' | 'frozen' | 'buffer';

interface Entry {
  variable: Variable;
  kind: ParamKind;
}

/** A prefixed view of a store, handed to one component (backbone, head). */
export interface ParamScope {
  readonly prefix: string;
  get(name: string): Variable;
  /** Registers `prefix + name`; takes ownership of `value` (it is disposed). */
  add(name: string, value: Tensor, kind?: ParamKind): Variable;
}

/** Torch → tfjs layout for a conv kernel: `[out, in, kh, kw]` → `[kh, kw, in, out]`. */
export const TORCH_CONV_TO_TFJS = [2, 3, 1, 0];
/** tfjs → torch layout for a conv kernel: `[kh, kw, in, out]` → `[out, in, kh, kw]`. */
export const TFJS_CONV_TO_TORCH = [3, 2, 0, 1];

/**
 * A checkpoint tensor in PyTorch layout → our layout (new tensor). Only 4-D entries (conv
 * kernels) differ; everything else is the same array.
 */
export function fromTorchLayout(value: Tensor): Tensor {
  return value.rank === 4 ? tf.transpose(value, TORCH_CONV_TO_TFJS) : value.clone();
}

/** Our layout → PyTorch layout (new tensor); inverse of `fromTorchLayout`. */
export function toTorchLayout(value: Tensor): Tensor {
  return value.rank === 4 ? tf.transpose(value, TFJS_CONV_TO_TORCH) : value.clone();
}

/** The PyTorch shape of an entry stored with `shape` in our layout. */
export function torchShape(shape: readonly number[]): number[] {
  return shape.length === 4 ? TFJS_CONV_TO_TORCH.map((a) => shape[a]) : [...shape];
}

export class ParamStore {
  private readonly entries = new Map<string, Entry>();
  private readonly byVarName = new Map<string, string>();
  private disposed = false;

  /**
   * @param label prefix of the engine-level variable names (`student`, `teacher`).
   * @param allowTraining false makes every variable non-trainable for tfjs (a teacher
   *   must never be picked up by `tf.variableGrads` without an explicit list).
   */
  constructor(
    readonly label: string = 'params',
    readonly allowTraining: boolean = true,
  ) {}

  /** Registers a new entry, taking ownership of `value` (disposed after copying). */
  add(name: string, value: Tensor, kind: ParamKind = 'trainable'): Variable {
    this.assertAlive();
    if (this.entries.has(name)) {
      value.dispose();
      throw new Error(`ParamStore(${this.label}): duplicate parameter '${name}'`);
    }
    const varName = this.uniqueVarName(name);
    const variable = tf.variable(value, this.allowTraining && kind === 'trainable', varName);
    value.dispose();
    this.entries.set(name, { variable, kind });
    this.byVarName.set(variable.name, name);
    return variable;
  }

  get(name: string): Variable {
    const e = this.entries.get(name);
    if (e === undefined) {
      throw new Error(`ParamStore(${this.label}): no parameter '${name}'`);
    }
    return e.variable;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  kind(name: string): ParamKind {
    const e = this.entries.get(name);
    if (e === undefined) throw new Error(`ParamStore(${this.label}): no parameter '${name}'`);
    return e.kind;
  }

  /** Entry names in registration order (= the reference's state_dict order), optionally filtered. */
  names(...kinds: ParamKind[]): string[] {
    const out: string[] = [];
    for (const [name, e] of this.entries) {
      if (kinds.length === 0 || kinds.includes(e.kind)) out.push(name);
    }
    return out;
  }

  /** PyTorch's `parameters()`: trainable + frozen, in order (what the teacher EMA averages). */
  parameterNames(): string[] {
    return this.names('trainable', 'frozen');
  }

  /** The variables the optimiser updates (§5.1: requires_grad only). */
  trainableVariables(): Variable[] {
    return this.names('trainable').map((n) => this.get(n));
  }

  /** The engine-level variable name of a parameter (keys of `tf.variableGrads` results). */
  varName(name: string): string {
    return this.get(name).name;
  }

  /** Inverse of `varName`. */
  paramNameOf(varName: string): string {
    const n = this.byVarName.get(varName);
    if (n === undefined) {
      throw new Error(`ParamStore(${this.label}): no variable '${varName}'`);
    }
    return n;
  }

  /** Number of scalars held by entries of the given kinds (all when none given). */
  numElements(...kinds: ParamKind[]): number {
    return this.names(...kinds).reduce((s, n) => s + this.get(n).size, 0);
  }

  /** A prefixed view (`store.scope('backbone.')`). */
  scope(prefix: string): ParamScope {
    return {
      prefix,
      get: (name) => this.get(prefix + name),
      add: (name, value, kind) => this.add(prefix + name, value, kind),
    };
  }

  /** An exact copy — parameters *and* buffers — in a new store (§2.4: teacher init). */
  clone(label: string, allowTraining = this.allowTraining): ParamStore {
    this.assertAlive();
    const out = new ParamStore(label, allowTraining);
    for (const [name, e] of this.entries) out.add(name, e.variable.clone(), e.kind);
    return out;
  }

  /** Overwrites every entry with the same-named entry of `src` (names, kinds, shapes must match). */
  copyFrom(src: ParamStore): void {
    this.assertAlive();
    const mine = this.names();
    const theirs = src.names();
    if (mine.length !== theirs.length || mine.some((n, i) => n !== theirs[i])) {
      throw new Error(`ParamStore(${this.label}).copyFrom(${src.label}): parameter names differ`);
    }
    for (const name of mine) {
      const dst = this.get(name);
      const s = src.get(name);
      if (!tf.util.arraysEqual(dst.shape, s.shape) || dst.dtype !== s.dtype) {
        throw new Error(
          `ParamStore(${this.label}).copyFrom: '${name}' is ${s.dtype}[${s.shape}] in the source, ${dst.dtype}[${dst.shape}] here`,
        );
      }
      dst.assign(s);
    }
  }

  /** Frees every variable. The store is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
    this.byVarName.clear();
    this.disposed = true;
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error(`ParamStore(${this.label}) was disposed`);
  }

  private uniqueVarName(name: string): string {
    // The suffix goes on the label so the parameter name keeps its `.bias`/`.weight` ending.
    const registered = tf.engine().registeredVariables;
    let candidate = `${this.label}/${name}`;
    for (let i = 1; candidate in registered; i++) candidate = `${this.label}~${i}/${name}`;
    return candidate;
  }
}
