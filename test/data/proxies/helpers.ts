/** Fake extractors for the proxy tests (no network needed). */
import type { ImageDataset } from '../../../src/data/dataset';
import type { FeatureSet } from '../../../src/eval/features';

/** One-hot class features: an oracle that knows every label. */
export function oracleFeatures(images: ImageDataset): Promise<FeatureSet> {
  const dim = images.classes.length;
  const features = new Float32Array(images.count * dim);
  for (let i = 0; i < images.count; i++) features[i * dim + images.labels[i]] = 1;
  return Promise.resolve({
    features,
    labels: images.labels,
    count: images.count,
    dim,
    labelDim: 1,
  });
}

/** Mean of each 4 × 4 pixel block (28 × 28 → 49-d): cheap pixel features. */
export function pooledPixels(images: ImageDataset): Promise<FeatureSet> {
  const { height: h, width: w } = images;
  const [gh, gw] = [Math.floor(h / 4), Math.floor(w / 4)];
  const dim = gh * gw;
  const features = new Float32Array(images.count * dim);
  for (let n = 0; n < images.count; n++) {
    for (let y = 0; y < gh * 4; y++) {
      for (let x = 0; x < gw * 4; x++) {
        features[n * dim + Math.floor(y / 4) * gw + Math.floor(x / 4)] +=
          images.images[(n * h + y) * w + x] / (16 * 255);
      }
    }
  }
  return Promise.resolve({
    features,
    labels: images.labels,
    count: images.count,
    dim,
    labelDim: 1,
  });
}
