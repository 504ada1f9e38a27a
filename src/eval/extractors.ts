/**
 * Feature extractors for the offline proxy benchmarks (issue: "each protocol also runs on
 * a Fashion-MNIST-derived benchmark"). A proxy hands the extractor plain `ImageDataset`s
 * (28×28 greyscale for Fashion-MNIST) and reads back `FeatureSet`s, so the same proxy
 * runs on the real teacher (`networkExtractor`, spec §9.0), on raw pixels (`pixelFeatures`,
 * a model-free baseline and the unit tests' fake), or on cached features.
 */
import { createHash } from 'node:crypto';
import type { Tensor4D } from '../backend/tf';
import type { ImageDataset } from '../data/dataset';
import { memorySource } from '../data/source';
import type { CarpNetworkSpec } from '../models/multiCrop';
import type { ParamStore } from '../models/params';
import { cachedFeatures, extractFeatures, type FeatureSet } from './features';

/** Images in, one feature row per image out (same order). */
export type FeatureExtractor = (images: ImageDataset) => Promise<FeatureSet>;

/** Raw pixels scaled to [0, 1] as features (dim = H·W·C): no model at all. */
export const pixelFeatures: FeatureExtractor = (images) => {
  const features = new Float32Array(images.images.length);
  for (let i = 0; i < features.length; i++) features[i] = images.images[i] / 255;
  return Promise.resolve({
    features,
    labels: images.labels,
    count: images.count,
    dim: images.height * images.width * images.channels,
    labelDim: images.labelDim ?? 1,
  });
};

/** The frozen network's pooled features in eval mode (spec §9.0), via `extractFeatures`. */
export function networkExtractor(o: {
  params: ParamStore;
  spec: CarpNetworkSpec;
  /** uint8-valued float batch → network input (e.g. scale to [0, 1] and normalise). */
  transform: (batch: Tensor4D) => Tensor4D;
  batchSize?: number;
  progress?: boolean;
}): FeatureExtractor {
  return (images) => extractFeatures({ ...o, source: memorySource(images) });
}

/**
 * Caches another extractor's output under `cacheRoot` (`cachedFeatures`), keyed by the
 * dataset name, split and a hash of the pixels: proxy datasets are generated, so their
 * names alone cannot tell two builder settings apart.
 */
export function cachedExtractor(
  cacheRoot: string,
  checkpointId: string,
  transform: string,
  extract: FeatureExtractor,
): FeatureExtractor {
  return async (images) => {
    const hash = createHash('sha256').update(images.images).digest('hex').slice(0, 16);
    const key = { checkpointId, dataset: images.name, split: `${images.split}-${hash}`, transform };
    const { cached: _cached, ...set } = await cachedFeatures(cacheRoot, key, () => extract(images));
    return set;
  };
}

/** Runs `extract` and checks it returned one row per image; `what` names the set in errors. */
export async function extractChecked(
  extract: FeatureExtractor,
  images: ImageDataset,
  what: string,
): Promise<FeatureSet> {
  const set = await extract(images);
  if (set.count !== images.count || set.features.length !== set.count * set.dim || set.dim < 1) {
    throw new Error(
      `feature extractor returned ${set.count} rows of dim ${set.dim} (${set.features.length} values) ` +
        `for ${what}: expected ${images.count} rows`,
    );
  }
  return set;
}

/** Rows `[start, end)` of a feature set, sharing memory. */
export function sliceFeatures(set: FeatureSet, start: number, end: number): FeatureSet {
  return {
    features: set.features.subarray(start * set.dim, end * set.dim),
    labels: set.labels.subarray(start * set.labelDim, end * set.labelDim),
    count: end - start,
    dim: set.dim,
    labelDim: set.labelDim,
  };
}

/** Seconds since `t0` (a `performance.now()` reading). */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}
