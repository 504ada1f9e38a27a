/**
 * Feature extractors over in-memory image sets: the same evaluation runs on the teacher
 * (`networkExtractor`, §9.0), on raw pixels (`pixelFeatures`, the model-free baseline every
 * representation should beat), or on cached features (`cachedExtractor`).
 */
import type { Tensor4D } from '../backend/tf';
import type { ImageDataset } from '../data/dataset';
import { memorySource } from '../data/source';
import type { CarpNetworkSpec } from '../models/carpNetwork';
import type { ParamStore } from '../models/params';
import { cachedFeatures, sourceIdentity } from './featureCache';
import { checkEvalInput, evalTransform, type EvalContext } from './context';
import { extractFeatures, type FeatureSet } from './features';
import { sourceFeatures } from './splitFeatures';
import type { ResampleFilter } from '../data/resample';

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

/** The frozen network's pooled features in eval mode (§9.0), via `extractFeatures`. */
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
 * weights digest, the images' content identity and the transform's name.
 */
export function cachedExtractor(
  cacheRoot: string,
  weights: string,
  transform: string,
  extract: FeatureExtractor,
): FeatureExtractor {
  return async (images) => {
    const data = await sourceIdentity(memorySource(images));
    const key = { weights, data, dataset: images.name, split: images.split, transform };
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

/**
 * The teacher of `ctx` as an extractor of in-memory image sets (the proxy benchmarks):
 * checked like a dataset split (`checkEvalInput`), T-eval with `filter`, features cached
 * under `<runDir>/features` as `dataset`.
 */
export function contextExtractor(
  ctx: EvalContext,
  dataset: string,
  filter: ResampleFilter = 'bicubic',
): FeatureExtractor {
  return (images) => {
    const source = memorySource(images);
    checkEvalInput(ctx, source, filter);
    const t = evalTransform(ctx.teacher, { filter, height: images.height, width: images.width });
    return sourceFeatures(ctx, source, images.split, t, dataset);
  };
}
