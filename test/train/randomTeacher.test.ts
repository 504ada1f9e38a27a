import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { loadFashionMnist } from '../../src/data/fashionMnist';
import { memorySource } from '../../src/data/source';
import { backboneFeatures } from '../../src/models/carpNetwork';
import { randomInitTeacher, reestimateBatchNorm } from '../../src/train/randomTeacher';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const config = resolveConfig('fmnist-tiny', ['model.width=4', 'model.hiddenDim=16']);
// The evaluation transform of a Fashion-MNIST run at its crop size: scale and normalise.
const toInput = (x: Tensor4D) => tf.div(tf.sub(tf.div(x, 255), 0.286), 0.353) as Tensor4D;
const images = loadFashionMnist('train', { limit: 64 });
const half = (i: number) =>
  memorySource({
    ...images,
    count: 32,
    images: images.images.subarray(i * 32 * 784, (i + 1) * 32 * 784),
    labels: images.labels.subarray(i * 32, (i + 1) * 32),
  });
const stat = (t: { params: { get(n: string): tf.Tensor } }, n: string) =>
  Float32Array.from(t.params.get(n).dataSync());

describe('reestimateBatchNorm', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('averages the batch statistics of every batch with equal weight (cumulative average)', async () => {
    const both = randomInitTeacher(config);
    const [a, b] = [randomInitTeacher(config), randomInitTeacher(config)];
    try {
      const names = both.params.names().filter((n) => /running_(mean|var)$/.test(n));
      expect(names.some((n) => n.startsWith('head.'))).toBe(true); // the head's BN too
      // Before: PyTorch's initial statistics.
      expect([...stat(both, 'backbone.bn1.running_mean')].every((v) => v === 0)).toBe(true);
      expect([...stat(both, 'backbone.bn1.running_var')].every((v) => v === 1)).toBe(true);

      expect(
        await reestimateBatchNorm(both, memorySource(images), toInput, { batchSize: 32 }),
      ).toBe(2);
      expect(await reestimateBatchNorm(a, half(0), toInput, { batchSize: 32 })).toBe(1);
      expect(await reestimateBatchNorm(b, half(1), toInput, { batchSize: 32 })).toBe(1);
      // Training mode normalises with batch statistics, so each batch's statistics do not
      // depend on the batches before: with weight 1/2 for the second, every layer's result
      // is the mean of the two halves' own statistics.
      for (const n of names) {
        const [sa, sb] = [stat(a, n), stat(b, n)];
        expectClose(
          stat(both, n),
          sa.map((v, i) => (v + sb[i]) / 2),
          { atol: 1e-5, rtol: 1e-4, label: n },
        );
        expect(
          sa.some((v, i) => Math.abs(v - sb[i]) > 1e-5),
          n,
        ).toBe(true);
      }
      expect(both.params.get('backbone.bn1.num_batches_tracked').dataSync()[0]).toBe(2);
      expect(both.checkpointId).toBe(`random-init-seed1-bn-fashion-mnist-train-64`);
    } finally {
      for (const t of [both, a, b]) t.params.dispose();
    }
  });

  it('makes evaluation mode normalise as training mode does (a fair baseline)', async () => {
    const t = randomInitTeacher(config);
    const x = tf.tidy(() =>
      toInput(tf.tensor4d(Float32Array.from(images.images), [64, 28, 28, 1]) as Tensor4D),
    );
    // Relative distance of eval-mode features to training-mode features of the same batch.
    const gap = () =>
      tf.tidy(() => {
        const train = backboneFeatures(t.params, t.spec, x, { training: true });
        const evalMode = backboneFeatures(t.params, t.spec, x, { training: false });
        return tf.div(tf.norm(tf.sub(train, evalMode)), tf.norm(train)).dataSync()[0];
      });
    try {
      const before = gap();
      await reestimateBatchNorm(t, memorySource(images), toInput, { batchSize: 64 });
      const after = gap();
      // One batch: the running statistics are that batch's, up to the unbiased variance
      // (n/(n−1) = 64/63 in every layer), so a few per cent remain.
      expect(after).toBeLessThan(0.05);
      expect(before).toBeGreaterThan(0.3);
    } finally {
      x.dispose();
      t.params.dispose();
    }
  });

  it('folds a last batch too small for a variance into the one before; leaks nothing', async () => {
    const t = randomInitTeacher(config);
    const src65 = memorySource(loadFashionMnist('train', { limit: 65 }));
    await expectNoLeak(async () => {
      expect(await reestimateBatchNorm(t, src65, toInput, { batchSize: 32 })).toBe(2);
    });
    await expect(reestimateBatchNorm(t, src65, toInput, { batchSize: 1 })).rejects.toThrow(
      /batchSize must be an integer ≥ 2, got 1/,
    );
    t.params.dispose();
  });
});
