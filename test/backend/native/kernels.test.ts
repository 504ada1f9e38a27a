/**
 * The native kernel configs (src/backend/native/kernels.ts) built over counting wrappers of
 * the configs they replace: which calls the addon computes (hand-worked exact values) and
 * which go to the fallback (NCHW, batch broadcasting other than 1 ↔ B).
 */
import { CARP_CONV_BN_INFERENCE } from '../../../src/backend/native/convBnKernel';
import { CARP_GELU, CARP_GELU_GRAD } from '../../../src/backend/native/geluKernels';
import { CARP_EMA_STEP, CARP_LARS_STEP } from '../../../src/backend/native/optimizerKernels';
import { CARP_LOSS } from '../../../src/backend/native/carpLossKernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { loadNative } from '../../../src/backend/native/addon';
import {
  BN_BACKWARD,
  BN_FORWARD,
  BN_INFERENCE,
} from '../../../src/backend/native/batchNormKernels';
import { nativeKernelConfigs } from '../../../src/backend/native/kernels';
import { CARP_BLOCKS, CARP_UNBLOCKS } from '../../../src/backend/kernels/blockPermute';
import { registerWasmKernels, useNativeKernels } from '../../../src/backend/wasmKernels';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

const { addon } = loadNative();
const REPLACED = [
  tf.Conv2D,
  tf.Conv2DBackpropInput,
  tf.Conv2DBackpropFilter,
  tf.MaxPoolGrad,
  tf.BatchMatMul,
];
/** Calls that reached each fallback. */
const fallbackCalls = new Map<string, number>();
let configs: tf.KernelConfig[] = [];

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  if (!addon) return;
  useNativeKernels(false); // the kernels now registered are the fallbacks
  const fallbacks = new Map<string, tf.KernelConfig>();
  for (const name of REPLACED) {
    const f = tf.getKernel(name, 'wasm')!;
    fallbacks.set(name, {
      ...f,
      kernelFunc: (args) => {
        fallbackCalls.set(name, (fallbackCalls.get(name) ?? 0) + 1);
        return f.kernelFunc(args);
      },
    });
  }
  configs = nativeKernelConfigs(addon, fallbacks);
  for (const c of configs) {
    if (tf.getKernel(c.kernelName, 'wasm')) tf.unregisterKernel(c.kernelName, 'wasm');
    tf.registerKernel(c);
  }
});

afterAll(() => {
  if (addon) useNativeKernels(true);
  registerWasmKernels();
});

/** `fn`'s values, checked for leaks, and how many calls reached `kernel`'s fallback. */
async function traced(kernel: string, fn: () => tf.Tensor): Promise<[number[], number]> {
  const before = fallbackCalls.get(kernel) ?? 0;
  const values = await expectNoLeak(() => tf.tidy(() => Array.from(fn().dataSync())));
  return [values, (fallbackCalls.get(kernel) ?? 0) - before];
}

const x9 = () => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);

describe.runIf(addon !== undefined)('nativeKernelConfigs', () => {
  it('replaces the five conv/matMul/pool kernels and adds the batch-norm, partition, loss, GELU, optimiser and folded evaluation kernels', () => {
    expect(configs.map((c) => c.kernelName)).toEqual([
      ...REPLACED,
      BN_FORWARD,
      BN_BACKWARD,
      BN_INFERENCE,
      CARP_BLOCKS,
      CARP_UNBLOCKS,
      CARP_LOSS,
      CARP_GELU,
      CARP_GELU_GRAD,
      CARP_LARS_STEP,
      CARP_EMA_STEP,
      CARP_CONV_BN_INFERENCE,
    ]);
    expect(configs.every((c) => c.backendName === 'wasm')).toBe(true);
  });

  it('refuses to build without a config to fall back to, naming it', () => {
    expect(() => nativeKernelConfigs(addon!, new Map())).toThrow(
      'native kernels: no wasm Conv2D to fall back to',
    );
  });

  it('Conv2D, NHWC float32: on the addon', async () => {
    const w = () => tf.ones([2, 2, 1, 1]) as tf.Tensor4D;
    // Each output sums a 2×2 window of 1…9.
    expect(await traced(tf.Conv2D, () => tf.conv2d(x9(), w(), 1, 'valid'))).toEqual([
      [12, 16, 24, 28],
      0,
    ]);
  });

  it('an NCHW input gradient goes to the fallback (still right)', async () => {
    const dx = () =>
      tf
        .engine()
        .runKernel(
          tf.Conv2DBackpropInput,
          { dy: tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]), filter: tf.ones([2, 2, 1, 1]) },
          { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [1, 1, 3, 3] },
        ) as tf.Tensor;
    expect(await traced(tf.Conv2DBackpropInput, dx)).toEqual([[1, 3, 2, 4, 10, 6, 3, 7, 4], 1]);
  });

  it('conv gradients on the addon: dx and dw of sum(conv2d(x, ones 2×2))', async () => {
    const dx = () =>
      tf.grad((x: tf.Tensor) =>
        tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([2, 2, 1, 1]), 1, 'valid')),
      )(x9());
    expect(await traced(tf.Conv2DBackpropInput, dx)).toEqual([[1, 2, 1, 2, 4, 2, 1, 2, 1], 0]);
    const dw = () =>
      tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x9(), w as tf.Tensor4D, 1, 'valid')))(
        tf.zeros([2, 2, 1, 1]),
      );
    expect(await traced(tf.Conv2DBackpropFilter, dw)).toEqual([[12, 16, 24, 28], 0]);
  });

  it('MaxPoolGrad on the addon: first maximum, windows of values ≤ 0 included', async () => {
    const g = () =>
      tf.grad((x: tf.Tensor) => tf.sum(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')))(
        tf.tensor4d([-3, -1, 5, 5, -2, -1, 0, 2], [1, 2, 4, 1]),
      );
    expect(await traced(tf.MaxPoolGrad, g)).toEqual([[0, 1, 1, 0, 0, 0, 0, 0], 0]);
  });

  it('BatchMatMul: transposes and 1 ↔ B batches on the addon; other broadcasts go to the fallback', async () => {
    const a = () => tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const b = () => tf.tensor2d([5, 6, 7, 8], [2, 2]);
    expect(await traced(tf.BatchMatMul, () => tf.matMul(a(), b()))).toEqual([[19, 22, 43, 50], 0]);
    expect(await traced(tf.BatchMatMul, () => tf.matMul(a(), b(), true, false))).toEqual([
      [26, 30, 38, 44],
      0,
    ]);
    expect(await traced(tf.BatchMatMul, () => tf.matMul(a(), b(), false, true))).toEqual([
      [17, 23, 39, 53],
      0,
    ]);
    const batched = () =>
      tf.matMul(
        tf.stack([a(), tf.mul(a(), 2)]) as tf.Tensor3D,
        tf.expandDims(b(), 0) as tf.Tensor3D,
      );
    expect(await traced(tf.BatchMatMul, batched)).toEqual([[19, 22, 43, 50, 38, 44, 86, 100], 0]);
    // Batch shapes [2] and [1, 2]: both batches of 2 but not the same shape, so not
    // 1 ↔ B for the addon: the fallback, which pairs item i with item i.
    const reshaped = () =>
      tf.matMul(
        tf.stack([a(), tf.mul(a(), 2)]) as tf.Tensor3D,
        tf.reshape(tf.stack([b(), tf.mul(b(), 2)]), [1, 2, 2, 2]),
      );
    expect(await traced(tf.BatchMatMul, reshaped)).toEqual([[19, 22, 43, 50, 76, 88, 172, 200], 1]);
  });
});
