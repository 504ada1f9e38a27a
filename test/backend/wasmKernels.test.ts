/**
 * Our wasm kernels called directly (src/backend/wasmKernels.ts), against the cpu
 * backend's kernels on identical inputs: the cases gradients.test.ts cannot reach
 * through tfjs ops (NCHW, invalid segment ids, −∞ windows), registration and swapping.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import {
  WASM_KERNEL_NAMES,
  hasBuiltinWasmKernel,
  registerWasmKernels,
  useWasmKernel,
} from '../../src/backend/wasmKernels';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

interface Arg {
  shape: number[];
  values: number[] | Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

function normal(shape: number[], seed: number): Arg {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: n }, () => rng.normal()) };
}

/** Runs one kernel on a backend with fresh input tensors; returns its output values. */
async function run(
  backend: string,
  kernel: string,
  inputs: Record<string, Arg>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const ts: Record<string, tf.Tensor> = {};
  for (const [k, a] of Object.entries(inputs)) ts[k] = tf.tensor(a.values, a.shape, a.dtype);
  const out = tf.engine().runKernel(kernel, ts, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: out.dataSync() as Float32Array };
  tf.dispose([out, ...Object.values(ts)]);
  return result;
}

async function compareKernel(
  kernel: string,
  inputs: Record<string, Arg>,
  attrs: Record<string, unknown>,
): Promise<void> {
  const wasm = await run('wasm', kernel, inputs, attrs);
  const cpu = await run('cpu', kernel, inputs, attrs);
  await tf.setBackend('wasm');
  expect(wasm.shape).toEqual(cpu.shape);
  let scale = 1;
  for (const v of cpu.values) scale = Math.max(scale, Math.abs(v));
  expectClose(wasm.values, cpu.values, { atol: 1e-4 * scale, rtol: 1e-4, label: kernel });
}

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
});

describe('registration', () => {
  it('is idempotent and installs ours for every name', () => {
    registerWasmKernels();
    const before = WASM_KERNEL_NAMES.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
    registerWasmKernels();
    const after = WASM_KERNEL_NAMES.map((k) => tf.getKernel(k, 'wasm')?.kernelFunc);
    expect(after).toEqual(before);
    expect(after.every((f) => f !== undefined)).toBe(true);
  });
  it('swaps to the built-in and back; refuses where wasm has none', () => {
    const ours = tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc;
    useWasmKernel(tf.Conv2DBackpropInput, 'builtin');
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).not.toBe(ours);
    registerWasmKernels(); // swaps back
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc).toBe(ours);
    expect(hasBuiltinWasmKernel(tf.Conv2DBackpropFilter)).toBe(false);
    expect(() => useWasmKernel(tf.UnsortedSegmentSum, 'builtin')).toThrow(/no built-in/);
  });
});

describe('conv gradients in NCHW (transposed through NHWC)', () => {
  /** Explicit NCHW padding: rows 1/1, columns 0/1 (asymmetric). */
  const NCHW_PAD = [
    [0, 0],
    [0, 0],
    [1, 1],
    [0, 1],
  ];
  it('Conv2DBackpropInput', () =>
    compareKernel(
      tf.Conv2DBackpropInput,
      { dy: normal([2, 4, 4, 4], 1), filter: normal([3, 3, 3, 4], 2) },
      {
        strides: [2, 2],
        pad: NCHW_PAD,
        dataFormat: 'NCHW',
        inputShape: [2, 3, 8, 9],
      },
    ));
  it('Conv2DBackpropFilter', () =>
    compareKernel(
      tf.Conv2DBackpropFilter,
      { x: normal([2, 3, 8, 9], 3), dy: normal([2, 4, 4, 4], 4) },
      {
        strides: [2, 2],
        pad: NCHW_PAD,
        dataFormat: 'NCHW',
        filterShape: [3, 3, 3, 4],
      },
    ));
});

describe('UnsortedSegmentSum', () => {
  it('drops ids outside [0, numSegments), as TF and the cpu backend do', () =>
    compareKernel(
      tf.UnsortedSegmentSum,
      {
        x: normal([6, 3], 5),
        segmentIds: { shape: [6], values: [0, 4, -1, 2, 5, 2], dtype: 'int32' },
      },
      { numSegments: 5 },
    ));
  it('sums rows of a rank-3 x', () =>
    compareKernel(
      tf.UnsortedSegmentSum,
      {
        x: normal([6, 3, 4], 6),
        segmentIds: { shape: [6], values: [1, 1, 0, 3, 1, 0], dtype: 'int32' },
      },
      { numSegments: 4 },
    ));
});

describe('MaxPoolGrad', () => {
  const attrs = { filterSize: 2, strides: 2, pad: 'same' };
  it('windows whose values are all −∞ send nothing (cpu rule)', () => {
    const ninf = -Infinity;
    const x = [ninf, ninf, 1, 2, ninf, ninf, 3, 2, 0, 0, 5, 5, -1, 0, 5, 5, 7];
    return compareKernel(
      tf.MaxPoolGrad,
      {
        dy: { shape: [1, 2, 2, 1], values: [1, 2, 3, 4] },
        input: { shape: [1, 4, 4, 1], values: x.slice(0, 16) },
        output: { shape: [1, 2, 2, 1], values: [ninf, 3, 0, 5] },
      },
      attrs,
    );
  });
});

describe('BatchMatMul', () => {
  it('broadcasts a batch of one (forward)', async () => {
    const a = normal([1, 32, 40], 7);
    const b = normal([3, 40, 30], 8);
    await compareKernel(tf.BatchMatMul, { a, b }, { transposeA: false, transposeB: false });
    await compareKernel(
      tf.BatchMatMul,
      { a: b, b: normal([1, 30, 40], 9) },
      {
        transposeA: true,
        transposeB: true,
      },
    );
  });
  it('leaks no tensor', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(normal([2, 40, 32], 10).values, [2, 40, 32]);
    const f = () => tf.dispose(tf.matMul(a, a, true, false));
    f();
    await expectNoLeak(f);
    a.dispose();
  });
});
