/**
 * Linear-probe training on augmented crops (§9.1 "train augmentation"): in every
 * epoch each training image gets a fresh random resized crop — area scale (0.08, 1),
 * aspect log-uniform in [3/4, 4/3], **bilinear** — and a horizontal flip with p 0.5, is
 * normalised and goes through the frozen backbone in eval mode; the pooled features of a
 * batch are what the classifier trains on. `augmentedFeatureBatches` builds the
 * `trainBatches` factory of the linear classifier (math/linearClassifier.ts) (and works for any single-label source).
 *
 * Reuses the pre-training pipeline: `sampleCropBox` (torchvision's RandomResizedCrop
 * draws) and PIL resampling through `applyViewCpu` (wasm/cpu backends) or
 * `cropResizeFlip` (GPU backends) — the same engines as the multi-crop views, with colour
 * jitter, greyscale, blur and solarisation off. Per image the draws are crop box then
 * flip, in torchvision's order; the epoch's order is a permutation from the same `Rng`.
 */
import { tf } from '../backend/tf';
import type { Tensor2D, Tensor4D } from '../backend/tf';
import { sampleCropBox, type CropBox } from '../data/augment/cropBox';
import { cropResizeFlip } from '../data/augment/cropResize';
import { applyViewCpu } from '../data/augment/cpuView';
import { resolveEngine, type AugmentEngine, type ViewParams } from '../data/multiCropViews';
import { PAPER_MULTICROP, type MultiCropConfig } from '../data/multiCropConfig';
import { normalizeImages } from '../data/normalize';
import type { ResampleFilter } from '../data/resample';
import type { ImageSource } from '../data/source';
import { backboneFeatures, type CarpNetworkSpec } from '../models/carpNetwork';
import type { ParamStore } from '../models/params';
import type { Rng } from '../random';
import type { LinearClassifierOptions } from './math/linearClassifier';

export interface AugmentedBatchesOptions {
  params: ParamStore;
  spec: Pick<CarpNetworkSpec, 'backbone'>;
  /** Single-label training images ([H, W, C] uint8 each). */
  source: ImageSource;
  /** Crop side (spec: 224; a carp-kit run: its global crop size, as T-eval). */
  size: number;
  /** Normalisation statistics (length C or 1). */
  mean: number[];
  std: number[];
  /** Images per optimiser step (default 256). */
  batchSize?: number;
  /** Images per backbone forward (memory bound; default 128). */
  forwardBatch?: number;
  /** Area fraction range (spec: 0.08, 1). */
  scale?: [number, number];
  /** Aspect range (spec: 3/4, 4/3). */
  ratio?: [number, number];
  /** Horizontal flip probability (spec: 0.5). */
  flipProb?: number;
  /** Crop resize filter (spec: bilinear). */
  filter?: ResampleFilter;
  engine?: AugmentEngine;
}

/** The augmentation settings actually used (recorded in result settings). */
export function augmentSettings(o: Partial<AugmentedBatchesOptions> = {}) {
  return {
    scale: o.scale ?? ([0.08, 1] as [number, number]),
    ratio: o.ratio ?? ([3 / 4, 4 / 3] as [number, number]),
    flipProb: o.flipProb ?? 0.5,
    filter: o.filter ?? ('bilinear' as ResampleFilter),
  };
}

const NO_COLOUR = {
  jitter: { apply: false, order: [0, 1, 2, 3], brightness: 1, contrast: 1, saturation: 1, hue: 0 },
  gray: false,
  sigma: 0,
  solarize: false,
};

/** Crops, flips and normalises one chunk `[n, H, W, C]` (uint8) → `[n, S, S, C']`. */
function augmentChunk(
  data: Uint8Array,
  shape: [number, number, number, number],
  boxes: { box: CropBox; flip: boolean }[],
  cfg: MultiCropConfig,
): Tensor4D {
  const [n, , , c] = shape;
  const s = cfg.globalSize;
  const outC = cfg.channels === 'rgb' && c === 1 ? 3 : c;
  if (resolveEngine() === 'cpu') {
    const params: ViewParams[] = boxes.map((b) => ({ ...b, ...NO_COLOUR }));
    return tf.tensor4d(applyViewCpu(data, shape, params, s, cfg), [n, s, s, outC]);
  }
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(data), shape);
    const rgb = outC !== c ? (tf.tile(x, [1, 1, 1, 3]) as Tensor4D) : x;
    const crops = cropResizeFlip(
      rgb,
      boxes.map((b) => b.box),
      boxes.map((b) => b.flip),
      s,
      cfg.filter,
    );
    return normalizeImages(crops, cfg.mean, cfg.std);
  });
}

/**
 * `trainBatches` for `linearProbe` (§9.1): per epoch, a permutation of the source in
 * batches of `batchSize`, each image freshly cropped and flipped, features `[B, D]` from the
 * frozen backbone (the probe disposes them).
 */
export function augmentedFeatureBatches(
  o: AugmentedBatchesOptions,
): NonNullable<LinearClassifierOptions['trainBatches']> {
  const { source } = o;
  const inChannels = o.spec.backbone.inChannels;
  if (source.labelDim !== 1)
    throw new Error(`augmentedFeatureBatches: ${source.name}/${source.split} must be single-label`);
  if (source.channels !== inChannels && !(source.channels === 1 && inChannels === 3)) {
    throw new Error(
      `augmentedFeatureBatches: ${source.name}/${source.split} has ${source.channels} channels, the network takes ${inChannels}`,
    );
  }
  const batchSize = o.batchSize ?? 256;
  const forwardBatch = o.forwardBatch ?? 128;
  for (const [k, v] of [
    ['batchSize', batchSize],
    ['forwardBatch', forwardBatch],
    ['size', o.size],
  ] as const) {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`augmentedFeatureBatches: ${k} must be a positive integer, got ${v}`);
  }
  const a = augmentSettings(o);
  const cfg: MultiCropConfig = {
    ...PAPER_MULTICROP,
    globalSize: o.size,
    filter: a.filter,
    mean: o.mean,
    std: o.std,
    channels: inChannels === 3 && source.channels === 1 ? 'rgb' : 'keep',
  };
  const { height: h, width: w, channels: c } = source;
  const per = h * w * c;

  return async function* batches(_epoch: number, rng: Rng) {
    const order = rng.permutation(source.count);
    const buf = new Uint8Array(Math.min(forwardBatch, source.count) * per);
    for (let start = 0; start < source.count; start += batchSize) {
      const idx = order.subarray(start, Math.min(start + batchSize, source.count));
      const parts: Tensor2D[] = [];
      try {
        for (let f = 0; f < idx.length; f += forwardBatch) {
          const sub = idx.subarray(f, Math.min(f + forwardBatch, idx.length));
          await source.readImages(sub, buf);
          const boxes = Array.from(sub, () => {
            const box = sampleCropBox(h, w, a.scale, a.ratio, rng);
            return { box, flip: rng.next() < a.flipProb };
          });
          const n = sub.length;
          const x = augmentChunk(buf.subarray(0, n * per), [n, h, w, c], boxes, cfg);
          parts.push(
            tf.tidy(() => backboneFeatures(o.params, o.spec, x, { training: false, folded: true })),
          );
          x.dispose();
        }
      } catch (e) {
        tf.dispose(parts);
        throw e;
      }
      const features = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as Tensor2D);
      if (parts.length > 1) tf.dispose(parts);
      yield { features, labels: Int32Array.from(idx, (i) => source.labels[i]) };
    }
  };
}
