/**
 * ResNet-18/34/50 backbones in torchvision's "v1.5" layout (§2.1).
 *
 * Input `[N, H, W, C]` (NHWC, any channel count) → pooled feature `[N, D]`,
 * D = 8·width·expansion (512 for ResNet-18/34, 2048 for ResNet-50 at width 64).
 *
 * - Stem: 7×7 conv stride 2 pad 3 → BN → ReLU → 3×3 max-pool stride 2 pad 1; the CIFAR
 *   variant (solo-learn/DINO-style for 32-px images) is a 3×3 conv stride 1 pad 1 and no
 *   max-pool. Both name the conv `conv1`, so checkpoint keys are the same.
 * - Four stages of blocks, inner widths width·(1, 2, 4, 8); stride 2 on the first block of
 *   stages 2–4, placed on the 3×3 conv (v1.5). Shortcut = 1×1 conv (stride s) + BN when
 *   the shape changes (`downsample.0`, `downsample.1`). All convs bias-free.
 * - The classifier `fc` is the identity (no parameters, §2.1).
 * - Init: conv weights Kaiming-normal, fan-out, ReLU gain: std = √(2 / (k·k·C_out));
 *   BN γ = 1, β = 0; zero-init-residual: γ = 0 on the last BN of every block
 *   (`bn2` of basic blocks, `bn3` of bottlenecks).
 * Names and registration order equal torchvision's `state_dict()` minus `fc.*`.
 */
import { tf } from '../backend/tf';
import type { Tensor2D, Tensor4D } from '../backend/tf';
import type { Rng } from '../random';
import { convBatchNorm, initBatchNorm, maxPoolStem, type ForwardOptions } from './layers';
import type { ParamScope } from './params';

export const RESNET_ARCHS = ['resnet18', 'resnet34', 'resnet50'] as const;
export type ResNetArch = (typeof RESNET_ARCHS)[number];

export interface ResNetSpec {
  block: 'basic' | 'bottleneck';
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: readonly number[];
  /** Base width (stem channels and first-stage inner width); torchvision: 64. */
  width: number;
  /** 3×3 stride-1 stem without max-pool (small images). */
  cifarStem: boolean;
  /** Input channels (3 for RGB, 1 for Fashion-MNIST). */
  inChannels: number;
}

const ARCH_TABLE: Record<ResNetArch, Pick<ResNetSpec, 'block' | 'layers'>> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
};

/** The spec of a named architecture; width defaults to torchvision's 64. */
export function resnetSpec(
  arch: ResNetArch,
  opts: { width?: number; cifarStem?: boolean; inChannels?: number } = {},
): ResNetSpec {
  const t = ARCH_TABLE[arch];
  if (t === undefined) {
    throw new Error(`resnetSpec: unknown arch '${arch}' (known: ${RESNET_ARCHS.join(', ')})`);
  }
  const spec: ResNetSpec = {
    ...t,
    width: opts.width ?? 64,
    cifarStem: opts.cifarStem ?? false,
    inChannels: opts.inChannels ?? 3,
  };
  for (const k of ['width', 'inChannels'] as const) {
    if (!Number.isInteger(spec[k]) || spec[k] < 1) {
      throw new Error(`resnetSpec: ${k} must be a positive integer, got ${spec[k]}`);
    }
  }
  return spec;
}

function expansion(spec: ResNetSpec): number {
  return spec.block === 'bottleneck' ? 4 : 1;
}

/** Width D of the pooled feature. */
export function resnetFeatureDim(spec: ResNetSpec): number {
  return spec.width * 8 * expansion(spec);
}

/** Kaiming-normal (fan-out, ReLU gain) conv kernel `[k, k, cin, cout]` from seeded draws. */
function kaimingConv(rng: Rng, k: number, cin: number, cout: number): tf.Tensor4D {
  const std = Math.sqrt(2 / (k * k * cout));
  const data = new Float32Array(k * k * cin * cout);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return tf.tensor4d(data, [k, k, cin, cout]);
}

interface BlockPlan {
  name: string;
  inC: number;
  planes: number;
  stride: number;
  downsample: boolean;
}

/** Every block of the network in order, with its geometry. */
function blockPlan(spec: ResNetSpec): BlockPlan[] {
  const plan: BlockPlan[] = [];
  const exp = expansion(spec);
  let inC = spec.width;
  spec.layers.forEach((count, stage) => {
    const planes = spec.width * 2 ** stage;
    for (let j = 0; j < count; j++) {
      const stride = stage > 0 && j === 0 ? 2 : 1;
      plan.push({
        name: `layer${stage + 1}.${j}`,
        inC,
        planes,
        stride,
        downsample: stride !== 1 || inC !== planes * exp,
      });
      inC = planes * exp;
    }
  });
  return plan;
}

/** Registers and initialises every backbone entry in torchvision's order. */
export function initResNet(p: ParamScope, spec: ResNetSpec, rng: Rng): void {
  const stemK = spec.cifarStem ? 3 : 7;
  p.add('conv1.weight', kaimingConv(rng, stemK, spec.inChannels, spec.width));
  initBatchNorm(p, 'bn1', spec.width);
  const exp = expansion(spec);
  for (const b of blockPlan(spec)) {
    const n = b.name;
    if (spec.block === 'basic') {
      p.add(`${n}.conv1.weight`, kaimingConv(rng, 3, b.inC, b.planes));
      initBatchNorm(p, `${n}.bn1`, b.planes);
      p.add(`${n}.conv2.weight`, kaimingConv(rng, 3, b.planes, b.planes));
      initBatchNorm(p, `${n}.bn2`, b.planes, 0); // zero-init-residual
    } else {
      p.add(`${n}.conv1.weight`, kaimingConv(rng, 1, b.inC, b.planes));
      initBatchNorm(p, `${n}.bn1`, b.planes);
      p.add(`${n}.conv2.weight`, kaimingConv(rng, 3, b.planes, b.planes));
      initBatchNorm(p, `${n}.bn2`, b.planes);
      p.add(`${n}.conv3.weight`, kaimingConv(rng, 1, b.planes, b.planes * exp));
      initBatchNorm(p, `${n}.bn3`, b.planes * exp, 0); // zero-init-residual
    }
    if (b.downsample) {
      p.add(`${n}.downsample.0.weight`, kaimingConv(rng, 1, b.inC, b.planes * exp));
      initBatchNorm(p, `${n}.downsample.1`, b.planes * exp);
    }
  }
}

function block(
  p: ParamScope,
  spec: ResNetSpec,
  b: BlockPlan,
  x: Tensor4D,
  o: ForwardOptions,
): Tensor4D {
  const n = b.name;
  const relu = { relu: true };
  const w = (name: string) => p.get(`${n}.${name}.weight`);
  let y: Tensor4D;
  if (spec.block === 'basic') {
    y = convBatchNorm(p, `${n}.bn1`, x, w('conv1'), b.stride, 1, o, relu);
  } else {
    y = convBatchNorm(p, `${n}.bn1`, x, w('conv1'), 1, 0, o, relu);
    // v1.5: stride on the 3×3
    y = convBatchNorm(p, `${n}.bn2`, y, w('conv2'), b.stride, 1, o, relu);
  }
  const shortcut = b.downsample
    ? convBatchNorm(p, `${n}.downsample.1`, x, w('downsample.0'), b.stride, 0, o, {
        relu: false,
      })
    : x;
  // The block's last conv → batch norm, + shortcut, ReLU (fused on the native kernels).
  // Its running-stat update is recorded after the shortcut's: different layers, so the
  // order does not change any value.
  return spec.block === 'basic'
    ? convBatchNorm(p, `${n}.bn2`, y, w('conv2'), 1, 1, o, { relu: true, residual: shortcut })
    : convBatchNorm(p, `${n}.bn3`, y, w('conv3'), 1, 0, o, { relu: true, residual: shortcut });
}

/** Backbone forward: `[N, H, W, inChannels]` → pooled features `[N, D]`. */
export function resnetForward(
  p: ParamScope,
  spec: ResNetSpec,
  x: Tensor4D,
  opts: ForwardOptions,
): Tensor2D {
  tf.util.assert(
    x.rank === 4 && x.shape[3] === spec.inChannels,
    () => `resnetForward: expected [N, H, W, ${spec.inChannels}], got [${x.shape}]`,
  );
  return tf.tidy(() => {
    const stem = p.get('conv1.weight');
    let y = spec.cifarStem
      ? convBatchNorm(p, 'bn1', x, stem, 1, 1, opts, { relu: true })
      : convBatchNorm(p, 'bn1', x, stem, 2, 3, opts, { relu: true });
    if (!spec.cifarStem) y = maxPoolStem(y);
    for (const b of blockPlan(spec)) y = block(p, spec, b, y, opts);
    return tf.mean(y, [1, 2]) as Tensor2D;
  });
}
