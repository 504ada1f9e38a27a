/**
 * The conv weight gradient (src/backend/kernels/conv2dBackpropFilter.ts) on hand-worked
 * cases: `dw[a,b,c,o] = Σ_{n,i,j} x_pad[n, i·s+a, j·s+b, c] · dy[n,i,j,o]`, called
 * directly and as the wasm kernel tfjs runs for conv2d's gradient.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  conv2dBackpropFilter,
  conv2dBackpropFilterConfig,
} from '../../../src/backend/kernels/conv2dBackpropFilter';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  useNativeKernels(false); // ours, not the native addon's, on wasm
});

/** 1×3×3×1: 1…9 row-major. */
const x9 = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

function dw(
  x: () => tf.Tensor4D,
  dy: () => tf.Tensor4D,
  attrs: Parameters<typeof conv2dBackpropFilter>[2],
) {
  return tf.tidy(() => {
    const r = conv2dBackpropFilter(x(), dy(), attrs);
    return { shape: r.shape, values: Array.from(r.dataSync()) };
  });
}

describe('conv2dBackpropFilter', () => {
  it('2×2 filter, stride 1, valid, dy = 1: each tap sums the 2×2 inputs it saw', async () => {
    const r = await expectNoLeak(() =>
      dw(x9, () => tf.ones([1, 2, 2, 1]), {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [2, 2, 1, 1],
      }),
    );
    // (0,0): 1+2+4+5; (0,1): 2+3+5+6; (1,0): 4+5+7+8; (1,1): 5+6+8+9.
    expect(r.shape).toEqual([2, 2, 1, 1]);
    expect(r.values).toEqual([12, 16, 24, 28]);
  });

  it('1×1 filter, stride 2 (the matMul path): x at (0,0),(0,2),(2,0),(2,2) · dy', async () => {
    const r = await expectNoLeak(() =>
      dw(x9, () => tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), {
        strides: 2,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [1, 1, 1, 1],
      }),
    );
    expect(r.values).toEqual([1 * 1 + 3 * 2 + 7 * 3 + 9 * 4]);
  });

  it("'same' padding, 3×3 filter on 2×2 input, dy = [[1,0],[0,0]]: the zero border is no tap", async () => {
    const r = await expectNoLeak(() =>
      dw(
        () => tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]),
        () => tf.tensor4d([1, 0, 0, 0], [1, 2, 2, 1]),
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 1, 1] },
      ),
    );
    // Output (0,0)'s window is padded rows/cols −1…1: taps (1,1),(1,2),(2,1),(2,2) see 1,2,3,4.
    expect(r.values).toEqual([0, 0, 0, 0, 1, 2, 0, 3, 4]);
  });

  it('two input and two output channels: channels contract over the batch and positions', async () => {
    // x: 1×1×2×2 (positions p0, p1; channels c0, c1) = [[1,2],[3,4]]; 1×1 filter, stride 1.
    // dy: 1×1×2×2 = [[5,6],[7,8]]. dw[c,o] = Σ_p x[p,c]·dy[p,o].
    const r = await expectNoLeak(() =>
      dw(
        () => tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]),
        () => tf.tensor4d([5, 6, 7, 8], [1, 1, 2, 2]),
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 2, 2] },
      ),
    );
    expect(r.values).toEqual([1 * 5 + 3 * 7, 1 * 6 + 3 * 8, 2 * 5 + 4 * 7, 2 * 6 + 4 * 8]);
  });

  it('is the kernel tfjs runs for the filter gradient of conv2d on wasm', async () => {
    const config = conv2dBackpropFilterConfig('wasm');
    expect(config.kernelName).toBe(tf.Conv2DBackpropFilter);
    const g = await expectNoLeak(() =>
      tf.tidy(() => {
        const x = x9();
        const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid')));
        return Array.from(grad(tf.zeros([2, 2, 1, 1])).dataSync());
      }),
    );
    expect(g).toEqual([12, 16, 24, 28]);
  });
});
