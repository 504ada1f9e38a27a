import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/backend/tf';
import {
  BN_EPS,
  BatchNormUpdates,
  batchNorm,
  conv2d,
  gelu,
  initBatchNorm,
  linear,
  maxPoolStem,
} from '../../src/models/layers';
import { ParamStore } from '../../src/models/params';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

function bnStore(c: number, gamma: number[], beta: number[]): ParamStore {
  const s = new ParamStore('bn');
  initBatchNorm(s.scope(''), 'bn', c);
  s.get('bn.weight').assign(tf.tensor1d(gamma));
  s.get('bn.bias').assign(tf.tensor1d(beta));
  return s;
}

describe('batchNorm (PyTorch semantics)', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('training: batch mean + biased var; running stats: momentum 0.1, unbiased var; eval: running stats', async () => {
    // Hand data: both channels have mean (4, 3), biased var 5, unbiased var 20/3.
    const x = tf.tensor2d([
      [1, 2],
      [3, 6],
      [5, 4],
      [7, 0],
    ]);
    const s = bnStore(2, [2, 0.5], [1, -1]);
    const p = s.scope('');
    await expectNoLeak(() => {
      const upd = new BatchNormUpdates();
      const y = tf.tidy(() => batchNorm(p, 'bn', x, { training: true, bnUpdates: upd }));
      const sd = Math.sqrt(5 + BN_EPS);
      const rows = [
        [1, 2],
        [3, 6],
        [5, 4],
        [7, 0],
      ];
      const exp = rows.flatMap(([a, b]) => [(2 * (a - 4)) / sd + 1, (0.5 * (b - 3)) / sd - 1]);
      expectClose(y.dataSync(), exp, { atol: 1e-5 });
      y.dispose();
      // Not applied until asked (applied outside the tape).
      expect(Array.from(s.get('bn.running_mean').dataSync())).toEqual([0, 0]);
      expect(upd.size).toBe(1);
      upd.apply();
      expect(upd.size).toBe(0);
      expectClose(s.get('bn.running_mean').dataSync(), [0.4, 0.3]);
      expectClose(s.get('bn.running_var').dataSync(), [0.9 + 2 / 3, 0.9 + 2 / 3]);
      expect(s.get('bn.num_batches_tracked').dataSync()[0]).toBe(1);
      const ye = tf.tidy(() => batchNorm(p, 'bn', x, { training: false }));
      const rsd = Math.sqrt(0.9 + 2 / 3 + BN_EPS);
      const expEval = rows.flatMap(([a, b]) => [
        (2 * (a - 0.4)) / rsd + 1,
        (0.5 * (b - 0.3)) / rsd - 1,
      ]);
      expectClose(ye.dataSync(), expEval, { atol: 1e-5 });
      ye.dispose();
      // Training without a collector drops the update; dispose() drops recorded ones.
      tf.dispose(batchNorm(p, 'bn', x, { training: true }));
      const u2 = new BatchNormUpdates();
      tf.dispose(batchNorm(p, 'bn', x, { training: true, bnUpdates: u2 }));
      u2.dispose();
      expect(s.get('bn.num_batches_tracked').dataSync()[0]).toBe(1);
    });
    x.dispose();
    s.dispose();
  });

  it('2-D (NHWC) statistics over N, H, W; a single value per channel is rejected', () => {
    const s = bnStore(2, [1, 1], [0, 0]);
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [2, 2, 1, 2]);
    const upd = new BatchNormUpdates();
    tf.dispose(batchNorm(s.scope(''), 'bn', x, { training: true, bnUpdates: upd }));
    upd.apply();
    expectClose(s.get('bn.running_mean').dataSync(), [0.25, 2.5]);
    expectClose(s.get('bn.running_var').dataSync(), [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (500 / 3)], {
      rtol: 1e-6,
    });
    const one = tf.tensor2d([[1, 2]]);
    expect(() => tf.tidy(() => batchNorm(s.scope(''), 'bn', one, { training: true }))).toThrow(
      /more than 1 value/,
    );
    tf.dispose([x, one]);
    s.dispose();
  });

  it('closed-form gradient equals autodiff through the moments', async () => {
    for (const shape of [
      [6, 5],
      [3, 4, 2, 5],
    ]) {
      const x = tf.randomNormal(shape, 1, 2, 'float32', 1);
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
      const s = bnStore(5, [0.5, 1, 0, -2, 3], [0.1, 0.2, 0.3, 0.4, 0.5]);
      const gamma = s.get('bn.weight');
      const beta = s.get('bn.bias');
      const axes = shape.length === 4 ? [0, 1, 2] : [0];
      await expectNoLeak(() => {
        const ours = tf.grads((xx: Tensor, g: Tensor, b: Tensor) => {
          const p = {
            prefix: '',
            get: (n: string) => (n === 'bn.weight' ? g : n === 'bn.bias' ? b : s.get(n)),
            add: () => {
              throw new Error();
            },
          };
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          return batchNorm(p as any, 'bn', xx as Tensor2D | Tensor4D, { training: true });
        })([x, gamma, beta], dy);
        const ref = tf.grads((xx: Tensor, g: Tensor, b: Tensor) => {
          const { mean, variance } = tf.moments(xx, axes);
          return tf.add(tf.mul(tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, BN_EPS))), g), b);
        })([x, gamma, beta], dy);
        ours.forEach((g, i) =>
          expectClose(g.dataSync(), ref[i].dataSync(), {
            atol: 1e-5,
            rtol: 1e-4,
            label: `grad ${i}`,
          }),
        );
        tf.dispose([...ours, ...ref]);
      });
      tf.dispose([x, dy]);
      s.dispose();
    }
  });
});

describe('other layers', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('linear uses PyTorch [out, in] weights', () => {
    const y = tf.tidy(() =>
      linear(
        tf.tensor2d([[1, 2]]),
        tf.tensor2d([
          [1, 0],
          [0, 1],
          [1, 1],
        ]),
        tf.tensor1d([0, 10, 100]),
      ),
    );
    expect(Array.from(y.dataSync())).toEqual([1, 12, 103]);
    y.dispose();
  });

  it('gelu is the exact erf form', () => {
    const y = tf.tidy(() => gelu(tf.tensor1d([-2, -0.5, 0, 1, 3])));
    // 0.5·x·(1 + erf(x/√2)), from PyTorch's F.gelu.
    expectClose(y.dataSync(), [-0.04550026, -0.15426877, 0, 0.84134475, 2.99595031], {
      atol: 2e-6,
    });
    y.dispose();
  });

  it('conv2d pads symmetrically like PyTorch (stride 2, pad 1)', () => {
    // 4×4 input of ones, 3×3 ones kernel, stride 2, pad 1 → windows at rows/cols {-1..1, 1..3}.
    const y = tf.tidy(() => conv2d(tf.ones([1, 4, 4, 1]) as Tensor4D, tf.ones([3, 3, 1, 1]), 2, 1));
    expect(y.shape).toEqual([1, 2, 2, 1]);
    expect(Array.from(y.dataSync())).toEqual([4, 6, 6, 9]);
    y.dispose();
  });

  it('stem max-pool: 3×3, stride 2, pad 1, padding never wins', () => {
    const x = tf.tensor4d(
      [-1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16],
      [1, 4, 4, 1],
    );
    const y = tf.tidy(() => maxPoolStem(x));
    expect(Array.from(y.dataSync())).toEqual([-1, -2, -5, -6]);
    tf.dispose([x, y]);
  });
});
