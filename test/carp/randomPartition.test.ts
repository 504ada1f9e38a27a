import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D } from '../../src/backend/tf';
import {
  blockLogits,
  partitionProbabilities,
  samplePartition,
} from '../../src/carp/randomPartition';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak } from '../helpers/tensors';
import { TEST_BACKENDS, useBackend } from './backends';

describe('samplePartition', () => {
  it('draws floor(K/P)·P distinct indices in [0, K)', () => {
    const rng = createRng(1);
    for (const [k, p] of [
      [24, 6],
      [7, 3],
      [10, 10],
      [5, 1],
      [65536, 512],
    ]) {
      const part = samplePartition(k, p, rng);
      expect(part).toBeInstanceOf(Int32Array);
      expect(part.length).toBe(Math.floor(k / p) * p);
      expect(new Set(part).size).toBe(part.length);
      expect(part.every((i) => i >= 0 && i < k)).toBe(true);
    }
  });

  it('is a full permutation when P divides K, deterministic per seed, fresh per call', () => {
    const a = samplePartition(12, 4, createRng(7));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(samplePartition(12, 4, createRng(7))).toEqual(a);
    const rng = createRng(7);
    expect(samplePartition(12, 4, rng)).toEqual(a);
    expect(samplePartition(12, 4, rng)).not.toEqual(a);
  });

  it('leaves each prototype out equally often when P does not divide K', () => {
    // K = 5, P = 2: one leftover per draw; each prototype should be left out ~1/5 of the time.
    const rng = createRng(3);
    const leftOut = new Array(5).fill(0);
    for (let t = 0; t < 5000; t++) {
      const part = samplePartition(5, 2, rng);
      const used = new Set(part);
      for (let i = 0; i < 5; i++) if (!used.has(i)) leftOut[i]++;
    }
    for (const c of leftOut) expect(Math.abs(c - 1000)).toBeLessThan(130); // ~4.5 sigma
  });

  it('rejects bad sizes', () => {
    const rng = createRng(0);
    expect(() => samplePartition(4, 5, rng)).toThrow(/exceeds numPrototypes/);
    expect(() => samplePartition(0, 1, rng)).toThrow(/numPrototypes must be a positive integer/);
    expect(() => samplePartition(8, 2.5, rng)).toThrow(/partitionSize must be a positive integer/);
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`partitionProbabilities on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('softmaxes the gathered columns of each block, [N_blocks, B, P]', () => {
      expect(tf.getBackend()).toBe(backend);
      const rows = [
        [1, 0, 2, -1, 0.5, 0, 9],
        [0, 1, 0, 2, -1, 0.5, -9],
      ];
      const logits = tf.tensor2d(rows);
      const partition = Int32Array.from([4, 1, 5, 0, 3, 2]); // prototype 6 unused
      const p = partitionProbabilities(logits, partition, 3);
      expect(p.shape).toEqual([2, 2, 3]);
      expect(p.dtype).toBe('float32');
      const expected: number[] = [];
      for (let b = 0; b < 2; b++) {
        for (const row of rows) {
          const z = [0, 1, 2].map((c) => Math.exp(row[partition[3 * b + c]]));
          const s = z.reduce((a, x) => a + x, 0);
          expected.push(...z.map((x) => x / s));
        }
      }
      expectClose(p.dataSync(), expected, { label: 'p' });
      tf.dispose([logits, p]);
    });

    it('routes gradients back to the partitioned columns only, without leaking', async () => {
      const logits = tf.tensor2d([
        [0.3, -1, 2, 0.5, 1],
        [1, 0, -0.5, 0.2, 0.1],
      ]);
      const partition = Int32Array.from([3, 0, 4, 1]); // P = 2, prototype 2 unused
      const weights = tf.tensor3d([
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 8],
        ],
      ]);
      const loss = (x: tf.Tensor) =>
        tf.sum(tf.mul(partitionProbabilities(x as Tensor2D, partition, 2), weights));
      // Reference gradient: the same function through a dense one-hot matMul (no gather).
      const select = tf.tidy(() =>
        tf.cast(tf.transpose(tf.oneHot(tf.tensor1d(partition, 'int32'), 5)), 'float32'),
      );
      const reference = (x: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.transpose(
              tf.softmax(tf.reshape(tf.matMul(x as Tensor2D, select), [2, 2, 2]), -1),
              [1, 0, 2],
            ),
            weights,
          ),
        );
      await expectNoLeak(() => tf.grad(loss)(logits).dispose());
      const g = tf.grad(loss)(logits);
      const gRef = tf.grad(reference)(logits);
      expectClose(g.dataSync(), gRef.dataSync(), { atol: 1e-7, label: 'grad' });
      expect([g.dataSync()[2], g.dataSync()[7]]).toEqual([0, 0]);
      tf.dispose([logits, weights, select, g, gRef]);
    });

    it('blockLogits gives the same values and gradients on the host and device paths', async () => {
      const rng = createRng(4);
      const logits = tf.tensor2d(
        Array.from({ length: 3 * 11 }, () => rng.normal()),
        [3, 11],
      );
      const weights = tf.tensor3d(
        Array.from({ length: 3 * 3 * 3 }, () => rng.normal()),
        [3, 3, 3],
      );
      for (const partition of [samplePartition(11, 3, rng), samplePartition(9, 3, rng)]) {
        const results = (['host', 'device'] as const).map((path) => {
          const f = (x: tf.Tensor) =>
            tf.sum(tf.mul(tf.square(blockLogits(x as Tensor2D, partition, 3, path)), weights));
          const value = blockLogits(logits, partition, 3, path);
          const grad = tf.grad(f)(logits);
          const out = { value: Array.from(value.dataSync()), grad: Array.from(grad.dataSync()) };
          tf.dispose([value, grad]);
          return out;
        });
        const rows = logits.arraySync();
        const expected: number[] = [];
        for (let b = 0; b < 3; b++)
          for (let n = 0; n < 3; n++)
            for (let c = 0; c < 3; c++) expected.push(rows[n][partition[3 * b + c]]);
        expect(results[0].value).toEqual(expected);
        expect(results[1].value).toEqual(expected);
        expectClose(results[0].grad, results[1].grad, { atol: 1e-7, label: 'grad' });
        await expectNoLeak(() => {
          for (const path of ['host', 'device'] as const) {
            tf.grad((x: tf.Tensor) => tf.sum(blockLogits(x as Tensor2D, partition, 3, path)))(
              logits,
            ).dispose();
          }
        });
      }
      tf.dispose([logits, weights]);
    });

    it('leaks no tensors and rejects bad partitions with clear messages', async () => {
      const logits = tf.zeros([2, 6]) as Tensor2D;
      await expectNoLeak(() =>
        partitionProbabilities(logits, Int32Array.from([0, 1, 2, 3]), 2).dispose(),
      );
      await expectNoLeak(() => {
        expect(() => partitionProbabilities(logits, Int32Array.from([0, 1, 2]), 2)).toThrow(
          /not a positive multiple/,
        );
        expect(() => partitionProbabilities(logits, Int32Array.from([0, 0]), 2)).toThrow(
          /appears twice/,
        );
        expect(() => partitionProbabilities(logits, Int32Array.from([0, 6]), 2)).toThrow(
          /outside \[0, 6\)/,
        );
        expect(() => partitionProbabilities(logits, new Int32Array(8), 2)).toThrow(
          /only 6 prototypes/,
        );
        const v = tf.zeros([6]);
        expect(() =>
          partitionProbabilities(v as unknown as Tensor2D, Int32Array.from([0, 1]), 2),
        ).toThrow(/\[B, K\]/);
        v.dispose();
      });
      logits.dispose();
    });
  });
}
