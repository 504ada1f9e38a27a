/**
 * The conv input gradient in sub-pixel form (src/backend/kernels/conv2dBackpropInput.ts):
 * the phase filter and `dx[y] = Σ_{i,a : i·s + a − top = y} dy[i] · w[a]`, hand-worked,
 * called directly and as the wasm kernel tfjs runs for conv2d's gradient.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  conv2dBackpropInput,
  conv2dBackpropInputConfig,
  phaseFilter,
} from '../../../src/backend/kernels/conv2dBackpropInput';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  useNativeKernels(false);
});

function dx(
  dy: () => tf.Tensor4D,
  w: () => tf.Tensor4D,
  attrs: Parameters<typeof conv2dBackpropInput>[2],
): { shape: number[]; values: number[] } {
  return tf.tidy(() => {
    const r = conv2dBackpropInput(dy(), w(), attrs);
    return { shape: r.shape, values: Array.from(r.dataSync()) };
  });
}

describe('phaseFilter', () => {
  it('3×3 filter w[a,b] = 3a+b+1, stride 2: taps w[r + 2(K−1−t)], zero past the filter', async () => {
    const r = await expectNoLeak(() =>
      tf.tidy(() => {
        const f = phaseFilter(tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3, 1, 1]), 2, 2);
        return { shape: f.shape, values: Array.from(f.dataSync()) };
      }),
    );
    // [Kh=2, Kw=2, O=1, (r_h, r_w) × C=1]; tap (0,0) reads a,b = r+2, tap (1,1) reads a,b = r.
    expect(r.shape).toEqual([2, 2, 1, 4]);
    expect(r.values).toEqual([9, 0, 0, 0, 7, 8, 0, 0, 3, 0, 6, 0, 1, 2, 4, 5]);
  });

  it('1×1 filter, stride 2: only phase (0,0) has a tap', async () => {
    const r = await expectNoLeak(() =>
      tf.tidy(() => Array.from(phaseFilter(tf.tensor4d([7], [1, 1, 1, 1]), 2, 2).dataSync())),
    );
    expect(r).toEqual([7]);
  });
});

describe('conv2dBackpropInput', () => {
  it('stride 1, valid, 2×2 ones filter: each input sums the dy of the windows holding it', async () => {
    const r = await expectNoLeak(() =>
      dx(
        () => tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]),
        () => tf.ones([2, 2, 1, 1]),
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 3, 3, 1] },
      ),
    );
    expect(r.shape).toEqual([1, 3, 3, 1]);
    expect(r.values).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('stride 2, 2×2 filter [[1,2],[3,4]] on a 3×3 input: one window, the last row and column get nothing', async () => {
    const r = await expectNoLeak(() =>
      dx(
        () => tf.tensor4d([5], [1, 1, 1, 1]),
        () => tf.tensor4d([1, 2, 3, 4], [2, 2, 1, 1]),
        { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 3, 3, 1] },
      ),
    );
    expect(r.values).toEqual([5, 10, 0, 15, 20, 0, 0, 0, 0]);
  });

  it('1×1 filter, stride 2 (unreached phases are zeros): dy lands on the even positions', async () => {
    const r = await expectNoLeak(() =>
      dx(
        () => tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]),
        () => tf.tensor4d([10], [1, 1, 1, 1]),
        { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 4, 4, 1] },
      ),
    );
    expect(r.values).toEqual([10, 0, 20, 0, 0, 0, 0, 0, 30, 0, 40, 0, 0, 0, 0, 0]);
  });

  it("'same', 3×3 ones filter, 2×2 input, dy = [[1,0],[0,0]]: the window at (0,0) covers all four", async () => {
    const r = await expectNoLeak(() =>
      dx(
        () => tf.tensor4d([1, 0, 0, 0], [1, 2, 2, 1]),
        () => tf.ones([3, 3, 1, 1]),
        { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [1, 2, 2, 1] },
      ),
    );
    expect(r.values).toEqual([1, 1, 1, 1]);
  });

  it('is the kernel tfjs runs for the input gradient of conv2d on wasm', async () => {
    expect(conv2dBackpropInputConfig('wasm').kernelName).toBe(tf.Conv2DBackpropInput);
    const g = await expectNoLeak(() =>
      tf.tidy(() => {
        const w = tf.ones([2, 2, 1, 1]) as tf.Tensor4D;
        const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.conv2d(x as tf.Tensor4D, w, 1, 'valid')));
        return Array.from(grad(tf.zeros([1, 3, 3, 1])).dataSync());
      }),
    );
    expect(g).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });
});
