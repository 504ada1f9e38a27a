import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { FeatureSet } from '../../../src/eval/features';
import { momentumSgdUpdate, trainLinearClassifier } from '../../../src/eval/math/linearClassifier';
import { expectClose, expectNoLeak, initTestBackend } from '../../helpers/tensors';
import { gaussianBlobs } from '../../helpers/fixtures';

/** One training row of zero features labelled 0: the weight gets no gradient, only the bias. */
const zeroRow: FeatureSet = {
  features: new Float32Array(2),
  labels: Int32Array.from([0]),
  count: 1,
  dim: 2,
  labelDim: 1,
};

describe('the linear classifier trainer (§9.1 LARS, §9.6 SGD)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('LARS at the paper η = 0.001 updates the bias as plain momentum SGD (no trust ratio), by hand', async () => {
    // x = 0 ⇒ logits = b. Step 1 (lr 1): b = 0, softmax (½, ½), g_b = (−½, ½), M = g_b,
    // b = (½, −½). Step 2 (lr ½): softmax(b) = (σ, 1 − σ), σ = 1/(1 + e⁻¹) = 0.7310586,
    // g_b = (σ − 1, 1 − σ) = (−0.2689414, 0.2689414), M = 0.9·(−½, ½) + g_b =
    // (−0.7189414, 0.7189414), b = (½, −½) − ½·M = (0.8594707, −0.8594707). A bias that got
    // the trust ratio η·‖b‖/‖g‖ would move by about 0.1 % in step 2 and stay at (≈0.5, ≈−0.5).
    const r = await expectNoLeak(() =>
      trainLinearClassifier({
        train: zeroRow,
        val: zeroRow,
        numClasses: 2,
        lrs: [1, 0.5],
        optimizer: { kind: 'lars', momentum: 0.9, eta: 0.001, weightDecay: 0 },
        batchSize: 1,
        seed: 0,
      }),
    );
    expectClose(r.final.bias, [0.8594707, -0.8594707], { atol: 1e-6 });
  });

  it('SGD decays weight and bias (PyTorch semantics), by hand', async () => {
    // Same row, one step at lr 1, λ = 0.1: g_b = (−½, ½), d = g_b + 0.1·0, b = (½, −½).
    // A second step: d = (σ−1, 1−σ) + 0.1·(½, −½) = (−0.2189414, 0.2189414),
    // buf = 0.9·(−½, ½) + d = (−0.6689414, 0.6689414), b = (½, −½) − ½·buf = (0.8344707, −0.8344707).
    const r = await trainLinearClassifier({
      train: zeroRow,
      val: zeroRow,
      numClasses: 2,
      lrs: [1, 0.5],
      optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0.1 },
      batchSize: 1,
      seed: 0,
    });
    expectClose(r.final.bias, [0.8344707, -0.8344707], { atol: 1e-6 });
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

  it('learns separable blobs, reports the best epoch and uses only the given rows, no leak', async () => {
    const train = gaussianBlobs(60, 1, { noise: 0.3 });
    const rows = Int32Array.from([0, 1, 2]); // one row of each class
    const res = await expectNoLeak(() =>
      trainLinearClassifier({
        train,
        val: gaussianBlobs(30, 2, { noise: 0.3 }),
        numClasses: 3,
        rows,
        lrs: [0.3, 0.3, 0.3, 0.03, 0.03, 0.003],
        optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-6 },
        batchSize: 256,
        seed: 0,
      }),
    );
    expect(res.trainCount).toBe(3);
    expect(res.history.map((e) => e.lr)).toEqual([0.3, 0.3, 0.3, 0.03, 0.03, 0.003]);
    expect(res.top1).toBe(1);
    expect(res.history[res.bestEpoch].top1).toBe(res.top1);
    expect(res.bestTop5).toBe(1);
    expect(res.history[5].trainLoss).toBeLessThan(res.history[0].trainLoss);
  });

  it('is deterministic under its seed', async () => {
    const o = {
      train: gaussianBlobs(60, 3),
      val: gaussianBlobs(30, 4),
      numClasses: 3,
      lrs: [1, 0.5],
      optimizer: { kind: 'lars' as const, momentum: 0.9, eta: 0.001, weightDecay: 0 },
      batchSize: 16,
      seed: 7,
    };
    const a = await trainLinearClassifier(o);
    const b = await trainLinearClassifier(o);
    expect(a.history).toEqual(b.history);
    expect(a.final.weight).toEqual(b.final.weight);
  });

  it('rejects bad labels, mismatched dims and empty schedules, naming them', async () => {
    const bad = gaussianBlobs(6, 1);
    bad.labels[4] = 5;
    const o = {
      numClasses: 3,
      lrs: [0.1],
      optimizer: { kind: 'sgd' as const, momentum: 0.9, weightDecay: 0 },
      batchSize: 4,
      seed: 0,
    };
    await expect(
      trainLinearClassifier({ ...o, train: bad, val: gaussianBlobs(3, 2) }),
    ).rejects.toThrow(/train label 5 at row 4 is outside \[0, 3\)/);
    await expect(
      trainLinearClassifier({
        ...o,
        train: gaussianBlobs(6, 1),
        val: gaussianBlobs(3, 2, { dim: 4 }),
      }),
    ).rejects.toThrow(/train dim 6 != val dim 4/);
    await expect(
      trainLinearClassifier({
        ...o,
        lrs: [],
        train: gaussianBlobs(6, 1),
        val: gaussianBlobs(3, 2),
      }),
    ).rejects.toThrow(/at least one epoch/);
  });
});
