/**
 * `UnsortedSegmentSum` on wasm (src/backend/kernels/unsortedSegmentSum.ts), the gradient of
 * `tf.gather`: `out[s] = Σ_{i : ids[i] = s} x[i]`, ids outside [0, numSegments) dropped.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  unsortedSegmentSum,
  unsortedSegmentSumConfig,
} from '../../../src/backend/kernels/unsortedSegmentSum';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

function sum(x: number[], shape: number[], ids: number[], idShape: number[], k: number) {
  return tf.tidy(() => {
    const r = unsortedSegmentSum(tf.tensor(x, shape), tf.tensor(ids, idShape, 'int32'), k);
    return { shape: r.shape, values: Array.from(r.dataSync()) };
  });
}

describe('unsortedSegmentSum', () => {
  it('rows summed by id, duplicates added, empty segments zero', async () => {
    const r = await expectNoLeak(() => sum([1, 2, 3, 4, 5, 6], [3, 2], [2, 0, 2], [3], 4));
    expect(r.shape).toEqual([4, 2]);
    expect(r.values).toEqual([3, 4, 0, 0, 6, 8, 0, 0]);
  });

  it('ids outside [0, numSegments) are dropped', async () => {
    const r = await expectNoLeak(() => sum([1, 2, 3, 4, 5, 6], [3, 2], [1, -1, 2], [3], 2));
    expect(r.values).toEqual([0, 0, 1, 2]);
  });

  it('rank-2 ids address rows of a rank-3 x; no ids give zeros', async () => {
    const r = await expectNoLeak(() => sum([1, 2, 3, 4], [2, 2, 1], [1, 1, 0, 1], [2, 2], 2));
    expect(r.values).toEqual([3, 7]);
    const empty = await expectNoLeak(() => sum([], [0, 3], [], [0], 2));
    expect(empty).toEqual({ shape: [2, 3], values: [0, 0, 0, 0, 0, 0] });
  });

  it('refuses ids whose shape does not prefix x', () => {
    expect(() => sum([1, 2, 3, 4], [2, 2], [0, 1, 0], [3], 2)).toThrow(
      'UnsortedSegmentSum: segmentIds shape [3] must prefix x shape [2,2]',
    );
  });

  it("is the wasm kernel of gather's gradient", async () => {
    expect(unsortedSegmentSumConfig('wasm').kernelName).toBe(tf.UnsortedSegmentSum);
    const g = await expectNoLeak(() =>
      tf.tidy(() => {
        const f = (x: tf.Tensor) => tf.sum(tf.gather(x, tf.tensor1d([1, 1, 2], 'int32')));
        return Array.from(
          tf
            .grad(f)(tf.zeros([3, 2]))
            .dataSync(),
        );
      }),
    );
    expect(g).toEqual([0, 0, 2, 2, 1, 1]);
  });
});
