/**
 * Multi-crop augmentation (§6): every image of a batch yields global view A, global
 * view B, then `numLocal` local views, each
 *   random resized crop (+ horizontal flip p 0.5) → colour jitter p 0.8 (random order) →
 *   greyscale p 0.2 → Gaussian blur (p 1.0 / 0.1 / 0.5) → solarise (view B, p 0.2) →
 *   to [0, 1], normalise.
 * All parameters are drawn on the CPU from the given `Rng` (deterministic under a seed),
 * then applied outside any gradient tape, either as batched tensor ops on the active
 * backend or as plain loops over typed arrays (`AugmentEngine`; same result).
 *
 * Input [B, H, W, C] with values in [0, 255]: a tensor, or a loader batch's uint8 array.
 * Two engines compute the same thing (`AugmentEngine`). Output: float32 normalised [B, S, S, C'] per view, in the order
 * [global A, global B, local…]; the caller disposes them.
 *
 * Greyscale input (Fashion-MNIST): `channels: 'keep'` (default) keeps one channel —
 * brightness and contrast apply, saturation/hue/greyscale are identities on grey images, so
 * this equals replicating to RGB and keeping one channel, at a third of the cost;
 * `channels: 'rgb'` replicates to 3 channels (for a 3-channel stem).
 */
import { tf } from '../backend/tf';
import type { Rng } from '../random';
import type { CropBox } from './augment/cropBox';
import { sampleCropBox } from './augment/cropBox';
import { cropResizeFlip } from './augment/cropResize';
import { gaussianBlurBatch } from './augment/blur';
import { grayscaleWhere, solarizeWhere } from './augment/color';
import type { JitterParams } from './augment/colorJitter';
import { colorJitterBatch } from './augment/colorJitter';
import { applyToSubset } from './augment/subset';
import { applyViewCpu } from './augment/cpuView';
import { normalizeImages } from './normalize';
import type { MultiCropConfig } from './multiCropConfig';
import { validateMultiCropConfig } from './multiCropConfig';

export type { MultiCropConfig } from './multiCropConfig';

/** Random parameters of one view of one image. */
export interface ViewParams {
  box: CropBox;
  flip: boolean;
  jitter: JitterParams;
  gray: boolean;
  /** Blur σ in pixels, 0 when not blurred. */
  sigma: number;
  solarize: boolean;
}

/** View kinds: 0 global A, 1 global B, 2 local. */
export type ViewKind = 0 | 1 | 2;

/** Kind of view v (A, B, then locals). */
export function viewKind(v: number): ViewKind {
  return v === 0 ? 0 : v === 1 ? 1 : 2;
}

/** Draws the parameters of one view of one H×W image (torchvision's order of draws). */
export function sampleViewParams(
  kind: ViewKind,
  h: number,
  w: number,
  cfg: MultiCropConfig,
  rng: Rng,
): ViewParams {
  const box = sampleCropBox(h, w, kind === 2 ? cfg.localScale : cfg.globalScale, cfg.ratio, rng);
  const flip = rng.next() < cfg.flipProb;
  const apply = rng.next() < cfg.jitterProb;
  const jitter: JitterParams = {
    apply,
    order: [0, 1, 2, 3],
    brightness: 1,
    contrast: 1,
    saturation: 1,
    hue: 0,
  };
  if (apply) {
    jitter.order = Array.from(rng.permutation(4));
    jitter.brightness = rng.uniform(1 - cfg.brightness, 1 + cfg.brightness);
    jitter.contrast = rng.uniform(1 - cfg.contrast, 1 + cfg.contrast);
    jitter.saturation = rng.uniform(1 - cfg.saturation, 1 + cfg.saturation);
    jitter.hue = rng.uniform(-cfg.hue, cfg.hue);
  }
  const gray = rng.next() < cfg.grayscaleProb;
  const sigma =
    rng.next() < cfg.blurProb[kind] ? rng.uniform(cfg.blurSigma[0], cfg.blurSigma[1]) : 0;
  const solarize = rng.next() < cfg.solarizeProb[kind];
  return { box, flip, jitter, gray, sigma, solarize };
}

/** Parameters of every view ([2 + numLocal][batch]), drawn view by view, image by image. */
export function sampleMultiCropParams(
  batch: number,
  h: number,
  w: number,
  cfg: MultiCropConfig,
  rng: Rng,
): ViewParams[][] {
  const views = 2 + cfg.numLocal;
  return Array.from({ length: views }, (_, v) =>
    Array.from({ length: batch }, () => sampleViewParams(viewKind(v), h, w, cfg, rng)),
  );
}

/** Applies one view's parameters to a batch ([B, H, W, C] in [0, 255]) → normalised [B, S, S, C]. */
export function applyView(
  images: tf.Tensor4D,
  params: readonly ViewParams[],
  size: number,
  cfg: MultiCropConfig,
): tf.Tensor4D {
  const steps: ((x: tf.Tensor4D) => tf.Tensor4D)[] = [
    (x) =>
      colorJitterBatch(
        x,
        params.map((p) => p.jitter),
      ),
    (x) =>
      grayscaleWhere(
        x,
        params.map((p) => p.gray),
      ),
    (x) => {
      const blurred = params.flatMap((p, i) => (p.sigma > 0 ? [i] : []));
      return applyToSubset(x, blurred, (sub) =>
        gaussianBlurBatch(
          sub,
          blurred.map((i) => params[i].sigma),
        ),
      );
    },
    (x) =>
      solarizeWhere(
        x,
        params.map((p) => p.solarize),
      ),
    (x) => normalizeImages(x, cfg.mean, cfg.std),
  ];
  let cur = cropResizeFlip(
    images,
    params.map((p) => p.box),
    params.map((p) => p.flip),
    size,
    cfg.filter,
  );
  for (const step of steps) {
    const next = step(cur);
    cur.dispose();
    cur = next;
  }
  return cur;
}

/** A batch as a tensor, or as raw NHWC values (e.g. a loader `Batch`'s uint8 images). */
export type ImageBatch =
  tf.Tensor4D | { data: ArrayLike<number>; shape: [number, number, number, number] };

/**
 * Where the per-image work runs: `tensor` = batched ops on the active backend (GPU /
 * tfjs-node), `cpu` = plain loops over typed arrays (much faster than tensor ops on the
 * wasm and cpu backends, whose batched matMul and small ops are slow), `auto` = `cpu` on
 * wasm/cpu, `tensor` elsewhere. Both give the same result up to float rounding.
 */
export type AugmentEngine = 'auto' | 'tensor' | 'cpu';

export function resolveEngine(engine: AugmentEngine = 'auto'): 'tensor' | 'cpu' {
  if (engine !== 'auto') return engine;
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu' ? 'cpu' : 'tensor';
}

/**
 * The multi-crop views of a batch: [global A, global B, local 1 … local L], each float32
 * [B, S, S, C'] normalised. Deterministic given the rng state (and engine-independent up
 * to float rounding).
 */
export function multiCropViews(
  images: ImageBatch,
  cfg: MultiCropConfig,
  rng: Rng,
  opts: { engine?: AugmentEngine } = {},
): tf.Tensor4D[] {
  const shape = (images instanceof tf.Tensor ? images.shape : images.shape) as [
    number,
    number,
    number,
    number,
  ];
  validateMultiCropConfig(cfg, shape[3]);
  const [b, h, w, c] = shape;
  const params = sampleMultiCropParams(b, h, w, cfg, rng);
  const sizeOf = (v: number) => (viewKind(v) === 2 ? cfg.localSize : cfg.globalSize);
  const outC = cfg.channels === 'rgb' && c === 1 ? 3 : c;
  if (resolveEngine(opts.engine) === 'cpu') {
    const data = images instanceof tf.Tensor ? images.dataSync() : images.data;
    return params.map((p, v) => {
      const s = sizeOf(v);
      return tf.tensor4d(applyViewCpu(data, shape, p, s, cfg), [b, s, s, outC]);
    });
  }
  const input = tf.tidy(() => {
    const x = (
      images instanceof tf.Tensor
        ? tf.cast(images, 'float32')
        : tf.tensor4d(Float32Array.from(images.data), shape)
    ) as tf.Tensor4D;
    return outC !== c ? (tf.tile(x, [1, 1, 1, 3]) as tf.Tensor4D) : x;
  });
  try {
    return params.map((p, v) => applyView(input, p, sizeOf(v), cfg));
  } finally {
    input.dispose();
  }
}
