/** Small deterministic fixtures shared by the tests (networks, feature sets). */
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
