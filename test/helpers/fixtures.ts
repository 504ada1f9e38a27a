/** Small deterministic fixtures shared by the tests (networks, feature sets). */
import type { ImageDataset } from '../../src/data/dataset';
import type { FeatureSet } from '../../src/eval/features';
import { carpNetworkSpec, type CarpNetworkSpec } from '../../src/models/carpNetwork';
import { resnetSpec } from '../../src/models/resnet';
import { createRng } from '../../src/random';

/** A ResNet-18 of base width 2 (CIFAR stem, 1 channel, D = 16) with a tiny CARP head. */
export function tinyCarpSpec(numPrototypes = 6): CarpNetworkSpec {
  return carpNetworkSpec(resnetSpec('resnet18', { width: 2, cifarStem: true, inChannels: 1 }), {
    hiddenDim: 8,
    bottleneckDim: 4,
    numPrototypes,
    batchNorm: true,
    numLayers: 3,
  });
}

/**
 * `n` points of `classes` Gaussian blobs in `dim` dimensions: class = i mod classes, centre 3
 * on the coordinate of the class, isotropic noise of std `noise`.
 */
export function gaussianBlobs(
  n: number,
  seed: number,
  o: { dim?: number; classes?: number; noise?: number } = {},
): FeatureSet {
  const dim = o.dim ?? 6;
  const classes = o.classes ?? 3;
  const noise = o.noise ?? 0.5;
  const rng = createRng(seed);
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % classes;
    for (let j = 0; j < dim; j++)
      features[i * dim + j] = (j === labels[i] ? 3 : 0) + noise * rng.normal();
  }
  return { features, labels, count: n, dim, labelDim: 1 };
}

/**
 * The smallest CARP run the training tests make (config overrides of the `fmnist-tiny`
 * preset): ResNet-18 width 4, K 32, P 8, head 16 → 8, batches of 8. Each test adds its
 * epochs, accumulation and image count.
 */
export const TINY_RUN_OVERRIDES: readonly string[] = [
  'model.width=4',
  'model.numPrototypes=32',
  'model.partitionSize=8',
  'model.hiddenDim=16',
  'model.bottleneckDim=8',
  'train.batchSize=8',
];

/**
 * `count` images of 2×3 px and 2 channels (byte i of the data is (7·i) mod 256), label
 * i mod 3 of classes a, b, c, file names from `nameOf`.
 */
export function tinyImageDataset(
  count: number,
  nameOf: (i: number) => string = (i) => `img${i}.png`,
): ImageDataset {
  return {
    name: 'tiny',
    split: 'train',
    count,
    height: 2,
    width: 3,
    channels: 2,
    images: Uint8Array.from({ length: count * 12 }, (_, i) => (i * 7) % 256),
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    classes: ['a', 'b', 'c'],
    names: Array.from({ length: count }, (_, i) => nameOf(i)),
  };
}
