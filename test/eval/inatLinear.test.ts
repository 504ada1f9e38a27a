import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { FeatureSet } from '../../src/eval/features';
import {
  inatLinear,
  inatLrSchedule,
  momentumSgdUpdate,
  sampleKPerClass,
} from '../../src/eval/math/linearClassifier';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';
import { gaussianBlobs } from '../helpers/fixtures';

/** Blobs with noise std 0.3 (test/helpers/fixtures.ts). */
const blobs = (n: number, seed: number, dim = 6, classes = 3): FeatureSet =>
  gaussianBlobs(n, seed, { dim, classes, noise: 0.3 });

describe('iNat-style few-shot linear classifier (spec §9.6)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('multi-step schedule: 0.3 for epochs 0–11, 0.03 for 12–17, 0.003 for 18–19', () => {
    const lr = inatLrSchedule();
    expect(lr).toHaveLength(20);
    expect(lr.slice(0, 12).every((v) => v === 0.3)).toBe(true);
    expectClose(lr.slice(12, 18), Array(6).fill(0.03), { atol: 1e-15 });
    expectClose(lr.slice(18), [0.003, 0.003], { atol: 1e-15 });
  });

  it('cosine schedule: 0.3·½(1 + cos(πe/20)) per epoch', () => {
    const lr = inatLrSchedule({ schedule: 'cosine' });
    expect(lr[0]).toBe(0.3);
    expect(lr[10]).toBeCloseTo(0.15, 15);
    expect(lr[19]).toBeCloseTo(0.3 * 0.5 * (1 + Math.cos((19 * Math.PI) / 20)), 15);
  });

  it('samples k per class with a fixed seed (all rows of a short class)', () => {
    const labels = Int32Array.from([0, 1, 0, 2, 0, 1]);
    const a = sampleKPerClass(labels, 3, 2, createRng(4));
    expect(a).toEqual(sampleKPerClass(labels, 3, 2, createRng(4)));
    expect(a).toHaveLength(5); // 2 of class 0, 2 of class 1, the only one of class 2
    expect(Array.from(a.slice(0, 2)).every((i) => labels[i] === 0)).toBe(true);
    expect(Array.from(a.slice(2, 4)).sort()).toEqual([1, 5]);
    expect(a[4]).toBe(3);
    expect(() => sampleKPerClass(labels, 3, 0, createRng(0))).toThrow(/k must be ≥ 1/);
  });

  it('momentum SGD step matches PyTorch SGD by hand (decay on weight and bias)', () => {
    // p = [1, −2], g = [0.5, 0.5], buf = [0.1, 0], lr 0.3, μ 0.9, λ 0.01:
    // d = g + λp = [0.51, 0.48]; buf' = 0.9·buf + d = [0.6, 0.48]; p' = p − 0.3·buf' = [0.82, −2.144].
    const p = tf.tensor1d([1, -2]);
    const g = tf.tensor1d([0.5, 0.5]);
    const buf = tf.tensor1d([0.1, 0]);
    const out = momentumSgdUpdate(p, g, buf, { lr: 0.3, momentum: 0.9, weightDecay: 0.01 });
    expectClose(out.buf.dataSync(), [0.6, 0.48], { atol: 1e-6 });
    expectClose(out.param.dataSync(), [0.82, -2.144], { atol: 1e-6 });
    tf.dispose([p, g, buf, out.param, out.buf]);
  });

  it('learns separable blobs from one example per class, reports the best epoch, no leak', async () => {
    const res = await expectNoLeak(() =>
      inatLinear({
        train: blobs(60, 1),
        test: blobs(30, 2),
        numClasses: 3,
        epochs: 6,
        milestones: [3, 5],
      }),
    );
    expect(res.trainCount).toBe(3);
    expectClose(
      res.history.map((e) => e.lr),
      [0.3, 0.3, 0.3, 0.03, 0.03, 0.003],
      { atol: 1e-15 },
    );
    expect(res.top1).toBe(1);
    expect(res.history[res.bestEpoch].top1).toBe(res.top1);
    expect(res.bestTop5).toBe(1);
    expect(res.history[5].trainLoss).toBeLessThan(res.history[0].trainLoss);
  });

  it('is deterministic under its seeds; a different subset seed draws other rows', async () => {
    const o = { train: blobs(60, 3), test: blobs(30, 4), numClasses: 3, epochs: 2, shots: 2 };
    const a = await inatLinear({ ...o, seed: 7 });
    const b = await inatLinear({ ...o, seed: 7 });
    expect(a.history).toEqual(b.history);
    const c = await inatLinear({ ...o, seed: 7, subsetSeed: 1 });
    expect(c.history).not.toEqual(a.history);
  });

  it('rejects bad labels and mismatched dims, naming the set', async () => {
    const bad = blobs(6, 1);
    bad.labels[4] = 5;
    await expect(inatLinear({ train: bad, test: blobs(3, 2), numClasses: 3 })).rejects.toThrow(
      /train label 5 at row 4 is outside \[0, 3\)/,
    );
    await expect(
      inatLinear({ train: blobs(6, 1), test: blobs(3, 2, 4), numClasses: 3 }),
    ).rejects.toThrow(/train dim 6 != test dim 4/);
  });
});
