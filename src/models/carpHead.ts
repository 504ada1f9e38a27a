/**
 * CARP projection head + weight-normalised prototype layer (§2.2).
 *
 * `[N, D]` backbone features → `[N, d]` embedding z (NOT L2-normalised, no temperature)
 * → `[N, K]` logits ℓ_k = ⟨z, c_k⟩ with unit-norm prototypes c_k = g_k·v_k/‖v_k‖, g = 1
 * frozen (`norm_last_layer`, §2.2).
 *
 * MLP (DINO/CARP head layout; indices are `nn.Sequential` positions, GELUs have no
 * parameters): with BN `mlp.0` Linear D→h, `mlp.1` BN, GELU, `mlp.3` Linear h→h, `mlp.4` BN,
 * GELU, `mlp.6` Linear h→d; without BN `mlp.0`, `mlp.2`, `mlp.4`. A one-layer head is a
 * single Linear named `mlp` (DINO's convention; never used by CARP).
 * Prototypes: `last_layer.weight_g` [K, 1] (frozen), `last_layer.weight_v` [K, d].
 *
 * Init: MLP weights truncated normal, std 0.02, cut at ±2 absolute (§2.2), biases 0,
 * BN γ = 1, β = 0; prototype directions U(−1/√d, 1/√d) (PyTorch's Linear default, which the
 * std-0.02 init does not touch); g = 1.
 */
import { tf } from '../backend/tf';
import type { Tensor2D } from '../backend/tf';
import type { Rng } from '../random';
import { batchNorm, gelu, initBatchNorm, linear, type ForwardOptions } from './layers';
import type { ParamScope } from './params';

export interface HeadSpec {
  /** Backbone feature width D. */
  inDim: number;
  /** Hidden width of the MLP (2048 in the paper). */
  hiddenDim: number;
  /** Embedding width d (256). */
  bottleneckDim: number;
  /** Number of prototypes K (65 536). */
  numPrototypes: number;
  /** BN after the hidden linears (on in the paper). */
  batchNorm: boolean;
  /** Number of linear layers in the MLP (3 in the paper). */
  numLayers: number;
}

interface LinearPlan {
  name: string;
  inDim: number;
  outDim: number;
  /** BN + GELU after it (hidden layers); the last linear has neither. */
  hidden: boolean;
  bnName?: string;
}

/** The MLP's linears with their nn.Sequential names. */
function mlpPlan(s: HeadSpec): LinearPlan[] {
  if (s.numLayers === 1) {
    return [{ name: 'mlp', inDim: s.inDim, outDim: s.bottleneckDim, hidden: false }];
  }
  const plan: LinearPlan[] = [];
  const stride = s.batchNorm ? 3 : 2; // Linear (+ BN) + GELU per hidden layer
  for (let i = 0; i < s.numLayers; i++) {
    const last = i === s.numLayers - 1;
    const idx = i * stride;
    plan.push({
      name: `mlp.${idx}`,
      inDim: i === 0 ? s.inDim : s.hiddenDim,
      outDim: last ? s.bottleneckDim : s.hiddenDim,
      hidden: !last,
      bnName: !last && s.batchNorm ? `mlp.${idx + 1}` : undefined,
    });
  }
  return plan;
}

/** N(0, std²) truncated at ±bound (absolute), by rejection. */
function truncNormal(rng: Rng, shape: [number, number], std: number, bound: number): Tensor2D {
  const data = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < data.length; i++) {
    let v: number;
    do v = rng.normal() * std;
    while (Math.abs(v) > bound);
    data[i] = v;
  }
  return tf.tensor2d(data, shape);
}

/** Registers and initialises the head's entries in the reference's order. */
export function initCarpHead(p: ParamScope, s: HeadSpec, rng: Rng): void {
  for (const k of ['inDim', 'hiddenDim', 'bottleneckDim', 'numPrototypes', 'numLayers'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) {
      throw new Error(`initCarpHead: ${k} must be a positive integer, got ${s[k]}`);
    }
  }
  for (const l of mlpPlan(s)) {
    p.add(`${l.name}.weight`, truncNormal(rng, [l.outDim, l.inDim], 0.02, 2));
    p.add(`${l.name}.bias`, tf.zeros([l.outDim]));
    if (l.bnName) initBatchNorm(p, l.bnName, l.outDim);
  }
  // PyTorch registers weight_norm's g before v.
  p.add('last_layer.weight_g', tf.ones([s.numPrototypes, 1]), 'frozen');
  const bound = 1 / Math.sqrt(s.bottleneckDim);
  const v = new Float32Array(s.numPrototypes * s.bottleneckDim);
  for (let i = 0; i < v.length; i++) v[i] = rng.uniform(-bound, bound);
  p.add('last_layer.weight_v', tf.tensor2d(v, [s.numPrototypes, s.bottleneckDim]));
}

/** MLP only: `[N, D]` → embedding z `[N, d]`. */
export function projectionForward(
  p: ParamScope,
  s: HeadSpec,
  h: Tensor2D,
  opts: ForwardOptions,
): Tensor2D {
  tf.util.assert(
    h.rank === 2 && h.shape[1] === s.inDim,
    () => `projectionForward: expected [N, ${s.inDim}], got [${h.shape}]`,
  );
  return tf.tidy(() => {
    let y = h;
    for (const l of mlpPlan(s)) {
      y = linear(y, p.get(`${l.name}.weight`), p.get(`${l.name}.bias`));
      if (l.bnName) y = batchNorm(p, l.bnName, y, opts);
      if (l.hidden) y = gelu(y);
    }
    return y;
  });
}

/** Effective prototype matrix `[K, d]`: row k = g_k·v_k/‖v_k‖₂ (weight norm, dim 0). */
export function prototypeWeights(p: ParamScope): Tensor2D {
  return tf.tidy(() => {
    const v = p.get('last_layer.weight_v');
    const g = p.get('last_layer.weight_g');
    const norm = tf.sqrt(tf.sum(tf.square(v), 1, true));
    return tf.mul(v, tf.div(g, norm)) as Tensor2D;
  });
}

/** Full head: `[N, D]` → logits `[N, K]`. */
export function carpHeadForward(
  p: ParamScope,
  s: HeadSpec,
  h: Tensor2D,
  opts: ForwardOptions,
): Tensor2D {
  return tf.tidy(() => linear(projectionForward(p, s, h, opts), prototypeWeights(p)));
}
