/**
 * The max-pool gradient (src/backend/kernels/maxPoolGrad.ts): each window's dy goes to its
 * first strictly largest in-bounds value, from −∞; padding is never chosen. Hand-worked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { maxPoolGradConfig, maxPoolGradInto } from '../../../src/backend/kernels/maxPoolGrad';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  useNativeKernels(false);
});

/** dx of a pool over `x` (NHWC `shape`) with window `f`, stride `s`, padding `pad`. */
function grad(
  x: number[],
  shape: [number, number, number, number],
  f: number,
  s: number,
  pad: 'valid' | 'same',
  dy: number[],
): number[] {
  const info = tf.backend_util.computePool2DInfo(shape, f, s, 1, pad);
  const dx = new Float32Array(x.length);
  maxPoolGradInto(x, dy, dx, info);
  return Array.from(dx);
}

describe('maxPoolGradInto', () => {
  it('windows of values ≤ 0 still send their gradient; a tie goes to the first position', () => {
    // 2×4, 2×2 windows, stride 2. Window 0: −3 −1 / −2 −1 → first −1 at (0,1).
    // Window 1: 5 5 / 0 2 → first 5 at (0,2).
    const x = [-3, -1, 5, 5, -2, -1, 0, 2];
    expect(grad(x, [1, 2, 4, 1], 2, 2, 'valid', [10, 20])).toEqual([0, 10, 20, 0, 0, 0, 0, 0]);
  });

  it('overlapping windows add into the same position', () => {
    // 1×3, 1×2 windows, stride 1: both windows' maximum is the middle 9.
    const x = [1, 9, 4];
    const info = tf.backend_util.computePool2DInfo([1, 1, 3, 1], [1, 2], 1, 1, 'valid');
    const dx = new Float32Array(3);
    maxPoolGradInto(x, [2, 3], dx, info);
    expect(Array.from(dx)).toEqual([0, 5, 0]);
  });

  it("'same' padding is never chosen, even where every value is negative", () => {
    // 1×2, 3×3 windows, stride 1: both windows cover both values; −5 is the maximum.
    expect(grad([-5, -7], [1, 1, 2, 1], 3, 1, 'same', [1, 2])).toEqual([3, 0]);
  });

  it('a window of −∞ or NaN only sends nothing; channels are pooled separately', () => {
    // 1×2×2 channels: channel 0 = −∞, NaN; channel 1 = 1, 2. One 1×2 window.
    const info = tf.backend_util.computePool2DInfo([1, 1, 2, 2], [1, 2], 1, 1, 'valid');
    const dx = new Float32Array(4);
    maxPoolGradInto([-Infinity, 1, NaN, 2], [7, 8], dx, info);
    expect(Array.from(dx)).toEqual([0, 0, 0, 8]);
  });
});

describe('maxPoolGradConfig', () => {
  it('is the kernel tfjs runs for the gradient of maxPool on wasm', async () => {
    expect(maxPoolGradConfig('wasm').kernelName).toBe(tf.MaxPoolGrad);
    const g = await expectNoLeak(() =>
      tf.tidy(() => {
        const f = (x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
        const x = tf.tensor4d([-3, -1, 5, 5, -2, -1, 0, 2], [1, 2, 4, 1]);
        return Array.from(tf.grad(f)(x).dataSync());
      }),
    );
    expect(g).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });
});
