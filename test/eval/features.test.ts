import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { memorySource } from '../../src/data/source';
import { defaultFeatureBatch, extractFeatures, sliceFeatures } from '../../src/eval/features';
import { backboneFeatures, createCarpParams } from '../../src/models/carpNetwork';
import { resnetSpec } from '../../src/models/resnet';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';
import { tinyCarpSpec } from '../helpers/fixtures';

function tinyDataset(count: number) {
  const rng = createRng(1);
  const images = new Uint8Array(count * 8 * 8 * 1).map(() => rng.int(256));
  return {
    name: 'toy',
    split: 'test',
    count,
    height: 8,
    width: 8,
    channels: 1,
    images,
    labels: Int32Array.from({ length: count }, (_, i) => i % 3),
    classes: ['a', 'b', 'c'],
  };
}

describe('extractFeatures (§9.0)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  const spec = tinyCarpSpec(6);
  const transform = (x: Tensor4D) => tf.div(x, 255) as Tensor4D;

  it('equals one eval-mode forward over the whole set, in batches, without leaking', async () => {
    const params = createCarpParams(spec, createRng(0), 'feat-test');
    const data = tinyDataset(10);
    const set = await expectNoLeak(() =>
      extractFeatures({ params, spec, source: memorySource(data), transform, batchSize: 4 }),
    );
    expect(set.count).toBe(10);
    expect(set.dim).toBe(16);
    const whole = tf.tidy(() =>
      backboneFeatures(
        params,
        spec,
        transform(tf.tensor4d(data.images, [10, 8, 8, 1], 'float32')),
        {
          training: false,
        },
      ),
    );
    expectClose(set.features, (await whole.data()) as Float32Array, {
      atol: 1e-5,
      label: 'features',
    });
    whole.dispose();
    params.dispose();
  });

  it('sliceFeatures shares memory and keeps labels aligned', () => {
    const set = {
      features: Float32Array.from([1, 2, 3, 4, 5, 6]),
      labels: Int32Array.from([7, 8, 9]),
      count: 3,
      dim: 2,
      labelDim: 1,
    };
    const s = sliceFeatures(set, 1, 3);
    expect(Array.from(s.features)).toEqual([3, 4, 5, 6]);
    expect(Array.from(s.labels)).toEqual([8, 9]);
    expect(s.count).toBe(2);
    s.features[0] = 30;
    expect(set.features[2]).toBe(30);
  });

  it('sizes the default batch to ~256 MB of early activations (wasm heap), capped at 256', () => {
    // ResNet-50 at 224 px: 224·224·64·4 floats·4 B = 51.4 MB per image → 5 images.
    expect(defaultFeatureBatch(resnetSpec('resnet50'), 224, 224)).toBe(5);
    expect(defaultFeatureBatch(resnetSpec('resnet18', { width: 16 }), 28, 28)).toBe(256);
    expect(defaultFeatureBatch(resnetSpec('resnet50'), 4000, 4000)).toBe(1);
  });
});
