import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { sampleCropBox } from '../../src/data/augment/cropBox';
import { cropResizeFlip } from '../../src/data/augment/cropResize';
import { normalizeImages } from '../../src/data/normalize';
import { memorySource } from '../../src/data/source';
import { augmentedFeatureBatches } from '../../src/eval/augmentedFeatures';
import { runLinear } from '../../src/eval/protocols/linear';
import { backboneFeatures } from '../../src/models/carpNetwork';
import { createRng } from '../../src/random';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';
import { syntheticImage, tempDirs, tinyRgbTeacher } from './protocols/fixtures';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

/** 5 RGB images 40×36 with labels 0..2. */
function tinySource() {
  const rng = createRng(2);
  const imgs = Array.from({ length: 5 }, () => syntheticImage(40, 36, rng));
  const images = new Uint8Array(5 * 40 * 36 * 3);
  imgs.forEach((im, i) => images.set(im.data, i * im.data.length));
  return memorySource({
    name: 'tiny',
    split: 'train',
    count: 5,
    height: 40,
    width: 36,
    channels: 3,
    images,
    labels: Int32Array.from([0, 1, 2, 0, 1]),
    classes: ['a', 'b', 'c'],
  });
}

async function collect(gen: AsyncIterable<{ features: Tensor2D; labels: Int32Array }>) {
  const out: { features: Float32Array; labels: Int32Array; shape: number[] }[] = [];
  for await (const b of gen) {
    out.push({
      features: (await b.features.data()) as Float32Array,
      labels: b.labels,
      shape: b.features.shape,
    });
    b.features.dispose();
  }
  return out;
}

describe('augmented-crop features for the linear probe (§9.1)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('each batch: permutation, then per image a crop box (0.08–1, 3/4–4/3) and a flip, bilinear, frozen backbone', async () => {
    const teacher = tinyRgbTeacher();
    const source = tinySource();
    const make = () =>
      augmentedFeatureBatches({
        params: teacher.params,
        spec: teacher.spec,
        source,
        size: 32,
        mean: MEAN,
        std: STD,
        batchSize: 3,
        forwardBatch: 2,
      });
    const batches = await expectNoLeak(() => collect(make()(0, createRng(7))));
    expect(batches.map((b) => b.shape)).toEqual([
      [3, 16],
      [2, 16],
    ]);

    // By hand with the tensor engine: same draws from the same generator.
    const rng = createRng(7);
    const order = rng.permutation(5);
    const draws = Array.from(order, () => {
      const box = sampleCropBox(40, 36, [0.08, 1], [3 / 4, 4 / 3], rng);
      return { box, flip: rng.next() < 0.5 };
    });
    const images = new Uint8Array(5 * 40 * 36 * 3);
    await source.readImages(order, images);
    const ref = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(images), [5, 40, 36, 3]);
      const crops = cropResizeFlip(
        x,
        draws.map((d) => d.box),
        draws.map((d) => d.flip),
        32,
        'bilinear',
      );
      return backboneFeatures(teacher.params, teacher.spec, normalizeImages(crops, MEAN, STD));
    });
    const refData = await ref.data();
    ref.dispose();
    expectClose([...batches[0].features, ...batches[1].features], refData, {
      atol: 2e-3,
      rtol: 2e-3,
    });
    expect([...batches[0].labels, ...batches[1].labels]).toEqual(
      Array.from(order, (i) => [0, 1, 2, 0, 1][i]),
    );

    // Deterministic under the seed, different across epochs' draws.
    const again = await collect(make()(0, createRng(7)));
    expect(again[0].features).toEqual(batches[0].features);
    const other = await collect(make()(1, createRng(8)));
    expect(other[0].features).not.toEqual(batches[0].features);
    expect(() =>
      augmentedFeatureBatches({
        params: teacher.params,
        spec: teacher.spec,
        source,
        size: 0,
        mean: MEAN,
        std: STD,
      }),
    ).toThrow('size must be a positive integer, got 0');
    teacher.params.dispose();
  });

  it('runLinear({ augment: true }) trains on fresh crops each epoch (grey Fashion-MNIST, no train extraction)', async () => {
    const config = resolveConfig('fmnist-tiny', [
      'model.width=2',
      'model.numPrototypes=16',
      'model.partitionSize=8',
    ]);
    const teacher = randomInitTeacher(config);
    const { runDir } = tempDirs('auglin');
    const ctx = { teacher, runDir, dataset: 'fashion-mnist', limit: 32, batchSize: 16 };
    const r = await runLinear(ctx, { epochs: 2, batchSize: 16, augment: true });
    expect(r.splits).toEqual({ train: 32, test: 32 });
    expect(r.settings).toMatchObject({
      augment: true,
      augmentation: {
        scale: [0.08, 1],
        ratio: [3 / 4, 4 / 3],
        flipProb: 0.5,
        filter: 'bilinear',
        size: 28,
      },
    });
    const m = r.metrics as { history: { trainLoss: number }[] };
    expect(m.history).toHaveLength(2);
    expect(m.history.every((e) => Number.isFinite(e.trainLoss))).toBe(true);
    // Only the validation split was extracted (and cached): training features come from crops.
    expect(
      readdirSync(join(runDir, 'features')).map((d) => d.split('-').slice(0, 3).join('-')),
    ).toEqual(['fashion-mnist-test']);
    teacher.params.dispose();
  });
});
