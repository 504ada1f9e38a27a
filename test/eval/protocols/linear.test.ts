import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { FeatureSet } from '../../../src/eval/features';
import { evaluateLinear } from '../../../src/eval/math/linearClassifier';
import { LINEAR_DEFAULTS, linearLrs, linearProbe } from '../../../src/eval/protocols/linear';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';
import { gaussianBlobs } from '../../helpers/fixtures';

/** Blobs with noise std 0.5 (test/helpers/fixtures.ts). */
const blobs = (n: number, seed: number, dim = 6, classes = 3): FeatureSet =>
  gaussianBlobs(n, seed, { dim, classes, noise: 0.5 });

describe('linearProbe (§9.1)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('learns separable classes, follows the per-epoch cosine lr, reports the best epoch, no leak', async () => {
    const res = await expectNoLeak(() =>
      linearProbe({
        train: blobs(90, 1),
        val: blobs(30, 2),
        numClasses: 3,
        epochs: 4,
        lr: 1.0,
        batchSize: 8,
        eta: 0.2, // the paper's η = 0.001 needs ~60k steps (see LINEAR_DEFAULTS.eta)
      }),
    );
    expect(res.history.map((e) => e.lr)).toEqual([
      1,
      0.5 * (1 + Math.cos(Math.PI / 4)),
      0.5,
      0.5 * (1 + Math.cos((3 * Math.PI) / 4)),
    ]);
    expect(res.top1).toBe(1);
    expect(res.top5).toBe(1);
    const best = Math.max(...res.history.map((e) => e.top1));
    expect(res.top1).toBe(best);
    expect(res.history[res.bestEpoch].top1).toBe(best);
    expect(res.history[3].trainLoss).toBeLessThan(res.history[0].trainLoss);
  });

  it('is deterministic under a seed', async () => {
    const o = {
      train: blobs(60, 3),
      val: blobs(30, 4),
      numClasses: 3,
      epochs: 2,
      batchSize: 16,
      seed: 7,
    };
    const a = await linearProbe(o);
    const b = await linearProbe(o);
    expect(a.history).toEqual(b.history);
  });

  it('computes top-1/top-5 exactly on a hand case', async () => {
    // 2-D features, 6 classes; w picks class = argmax of a fixed score table.
    const w = tf.tensor2d([1, 0.5, 0, -1, -2, -3, 0, 0, 0, 0, 0, 10], [2, 6]);
    const b = tf.zeros([6]) as tf.Tensor1D;
    const set: FeatureSet = {
      features: Float32Array.from([1, 0, 0, 1]),
      labels: Int32Array.from([1, 3]),
      count: 2,
      dim: 2,
      labelDim: 1,
    };
    // Row 0 scores (1, .5, 0, −1, −2, −3): top-1 class 0 (label 1 → miss), label 1 in top-5 (hit).
    // Row 1 scores (0, 0, 0, 0, 0, 10): top-1 class 5 (miss); top-5 = 5 then the ties 0..3 in
    // index order (tf.topk is stable), so label 3 is a hit.
    const acc = await evaluateLinear(w, b, set);
    expect(acc.top1).toBe(0);
    expect(acc.top5).toBe(1);
    w.dispose();
    b.dispose();
  });

  it('defaults are the reference’s: lr 1.0, 100 epochs, batch 2048, η 0.001, LR per epoch', () => {
    expect(LINEAR_DEFAULTS).toMatchObject({ epochs: 100, lr: 1.0, batchSize: 2048, eta: 0.001 });
    const lrs = linearLrs(1, 100);
    expect(lrs[0]).toBe(1);
    expect(lrs[50]).toBeCloseTo(0.5, 15);
    expect(lrs[99]).toBeCloseTo(0.5 * (1 + Math.cos((99 * Math.PI) / 100)), 15);
  });

  it('rejects labels outside the class range and mismatched dims', async () => {
    const bad = blobs(6, 1);
    bad.labels[2] = 9;
    await expect(
      linearProbe({ train: bad, val: blobs(3, 2), numClasses: 3, epochs: 1 }),
    ).rejects.toThrow(/train label 9 at row 2 is outside \[0, 3\)/);
    await expect(
      linearProbe({ train: blobs(6, 1), val: blobs(3, 2, 4), numClasses: 3, epochs: 1 }),
    ).rejects.toThrow(/train dim 6 != val dim 4/);
  });
});
