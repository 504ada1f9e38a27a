/**
 * The shared plumbing of our wasm gradient kernels (src/backend/kernels/composite.ts):
 * windows, strides, phase interleave, layouts, conv-gradient geometry, and a composite
 * kernel's reference counting. Small integer tensors, values worked by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  compositeKernel,
  convDataFormat,
  convGradInputs,
  convWindow,
  fromNhwc,
  interleavePhases,
  shape4,
  strided2d,
  toNhwc,
  window2d,
} from '../../../src/backend/kernels/composite';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

/** `fn`'s result values and shape, with every tensor it made released. */
function run(fn: () => tf.Tensor): { shape: number[]; values: number[] } {
  return tf.tidy(() => {
    const t = fn();
    return { shape: t.shape, values: Array.from(t.dataSync()) };
  });
}

/** 1×2×3×1: [[1,2,3],[4,5,6]]. */
const twoByThree = () => tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
/** 1×3×3×1: 1…9 row-major. */
const threeByThree = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

describe('window2d', () => {
  it('crops inside and pads outside in one: rows −1…1, columns 1…3', async () => {
    const r = await expectNoLeak(() => run(() => window2d(twoByThree(), -1, 2, 1, 4)));
    expect(r.shape).toEqual([1, 3, 3, 1]);
    expect(r.values).toEqual([0, 0, 0, 2, 3, 0, 5, 6, 0]);
  });

  it('pads with `fill`; the whole tensor is returned as is', async () => {
    const r = await expectNoLeak(() => run(() => window2d(twoByThree(), 0, 2, -1, 3, -9)));
    expect(r.values).toEqual([-9, 1, 2, 3, -9, 4, 5, 6]);
    const x = twoByThree();
    expect(window2d(x, 0, 2, 0, 3)).toBe(x);
    x.dispose();
  });
});

describe('convWindow', () => {
  it('crops to the part inside and leaves the border to the conv padding', async () => {
    const r = await expectNoLeak(() =>
      tf.tidy(() => {
        const w = convWindow(twoByThree(), -1, 2, 1, 4);
        return { shape: w.x.shape, values: Array.from(w.x.dataSync()), pad: w.pad };
      }),
    );
    expect(r.shape).toEqual([1, 2, 2, 1]);
    expect(r.values).toEqual([2, 3, 5, 6]);
    expect(r.pad).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [0, 0],
    ]);
  });
});

describe('interleavePhases', () => {
  it('[N, Q, V, (2, 2, 1)] → [N, 2Q, 2V, 1]: phase (r_h, r_w) lands at (2q + r_h, 2v + r_w)', async () => {
    const r = await expectNoLeak(() =>
      run(() => interleavePhases(tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 2, 4]), 2, 2)),
    );
    expect(r.shape).toEqual([1, 2, 4, 1]);
    expect(r.values).toEqual([1, 2, 5, 6, 3, 4, 7, 8]);
  });
});

describe('strided2d', () => {
  it('every second row and column from 0, zero-padding a remainder', async () => {
    const r = await expectNoLeak(() => run(() => strided2d(threeByThree(), 2, 2)));
    expect(r.shape).toEqual([1, 2, 2, 1]);
    expect(r.values).toEqual([1, 3, 7, 9]);
    const s = await expectNoLeak(() => run(() => strided2d(threeByThree(), 1, 3)));
    expect(s.values).toEqual([1, 4, 7]);
    const x = threeByThree();
    expect(strided2d(x, 1, 1)).toBe(x);
    x.dispose();
  });
});

describe('layouts', () => {
  it('NCHW → NHWC and back; NHWC (or no format) is left alone', async () => {
    const r = await expectNoLeak(() =>
      run(() => toNhwc(tf.tensor4d([1, 2, 3, 4], [1, 2, 1, 2]), 'NCHW')),
    );
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expect(r.values).toEqual([1, 3, 2, 4]);
    const back = await expectNoLeak(() =>
      run(() => fromNhwc(tf.tensor4d([1, 3, 2, 4], [1, 1, 2, 2]), 'NCHW')),
    );
    expect(back.shape).toEqual([1, 2, 1, 2]);
    expect(back.values).toEqual([1, 2, 3, 4]);
    const x = twoByThree();
    expect(toNhwc(x, 'NHWC')).toBe(x);
    expect(fromNhwc(x, undefined)).toBe(x);
    x.dispose();
    expect([convDataFormat('NCHW'), convDataFormat('NHWC'), convDataFormat(undefined)]).toEqual([
      'channelsFirst',
      'channelsLast',
      'channelsLast',
    ]);
  });

  it('shape4 copies a rank-4 shape and refuses any other rank', () => {
    expect(shape4([2, 3, 4, 5])).toEqual([2, 3, 4, 5]);
    expect(() => shape4([1, 2, 3])).toThrow('expected a rank-4 shape, got [1,2,3]');
  });
});

describe('convGradInputs', () => {
  const attrs = { strides: 2, pad: 'same' as const, dataFormat: 'NHWC' as const };

  it("the forward conv's geometry: 5×5 input, 3×3 filter, stride 2, 'same' → 3×3, pad 1", async () => {
    const r = await expectNoLeak(() =>
      tf.tidy(() => {
        const { info, dy } = convGradInputs(
          'K',
          [2, 5, 5, 3],
          [3, 3, 3, 4],
          tf.zeros([2, 3, 3, 4]),
          attrs,
        );
        return { info, dyShape: dy.shape };
      }),
    );
    expect([r.info.outHeight, r.info.outWidth, r.info.outChannels]).toEqual([3, 3, 4]);
    expect([r.info.padInfo.top, r.info.padInfo.left, r.info.strideHeight]).toEqual([1, 1, 2]);
    expect(r.dyShape).toEqual([2, 3, 3, 4]);
  });

  it('NCHW: dy comes back in NHWC', async () => {
    const r = await expectNoLeak(() =>
      tf.tidy(
        () =>
          convGradInputs('K', [1, 3, 5, 5], [3, 3, 3, 4], tf.zeros([1, 4, 3, 3]), {
            ...attrs,
            dataFormat: 'NCHW',
          }).dy.shape,
      ),
    );
    expect(r).toEqual([1, 3, 3, 4]);
  });

  it("refuses a dy that is not the conv's output, naming the kernel and both shapes", async () => {
    await expectNoLeak(() =>
      tf.tidy(() => {
        expect(() =>
          convGradInputs(
            'Conv2DBackpropX',
            [2, 5, 5, 3],
            [3, 3, 3, 4],
            tf.zeros([2, 3, 3, 5]),
            attrs,
          ),
        ).toThrow("Conv2DBackpropX: dy shape [2,3,3,5] does not match the conv's output [2,3,3,4]");
      }),
    );
  });
});

describe('compositeKernel', () => {
  it('a kernel made of tfjs ops: result handed over, inputs still alive, nothing leaked', async () => {
    tf.registerKernel(
      compositeKernel<{ scale: number }>('CarpTestScaledSum', 'wasm', ({ a, b }, { scale }) =>
        tf.mul(tf.add(a, b), scale),
      ),
    );
    try {
      const a = tf.tensor1d([1, 2, 3]);
      const b = tf.tensor1d([10, 20, 30]);
      const before = tf.memory().numTensors;
      const out = tf.engine().runKernel('CarpTestScaledSum', { a, b }, { scale: 2 }) as tf.Tensor;
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(Array.from(out.dataSync())).toEqual([22, 44, 66]);
      out.dispose();
      expect(Array.from(a.dataSync())).toEqual([1, 2, 3]);
      tf.dispose([a, b]);
      expect(tf.memory().numTensors).toBe(before - 2);
    } finally {
      tf.unregisterKernel('CarpTestScaledSum', 'wasm');
    }
  });
});
