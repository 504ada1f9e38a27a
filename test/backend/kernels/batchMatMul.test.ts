/**
 * `BatchMatMul` on wasm (src/backend/kernels/batchMatMul.ts): transposed and batched
 * products of at least SMALL_PRODUCT multiply-adds per item go through explicit transposes
 * and the built-in's XNNPACK path; smaller ones stay with the built-in loop. Structured
 * integer matrices, so every entry is exact: A[i,k] = i + k, B[k,j] = 1 + (k = j).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { batchMatMulConfig, SMALL_PRODUCT } from '../../../src/backend/kernels/batchMatMul';
import {
  registerWasmKernels,
  useNativeKernels,
  useWasmKernel,
} from '../../../src/backend/wasmKernels';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

/** 32·32·32 = SMALL_PRODUCT: the smallest product that takes our path. */
const N = 32;

let builtinCalls = 0;

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  useNativeKernels(false);
  // Ours over a counting wrapper of the built-in, to see which path a product took.
  useWasmKernel(tf.BatchMatMul, 'builtin');
  const builtin = tf.getKernel(tf.BatchMatMul, 'wasm')!;
  const counted: tf.KernelConfig = {
    ...builtin,
    kernelFunc: (args) => {
      builtinCalls++;
      return builtin.kernelFunc(args);
    },
  };
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(batchMatMulConfig('wasm', counted));
});

afterAll(() => registerWasmKernels());

/** A[i,k] = i + k + offset, `rows`×`cols`. */
function a(rows: number, cols: number, offset = 0): number[] {
  return Array.from({ length: rows * cols }, (_, x) => Math.floor(x / cols) + (x % cols) + offset);
}
/** B[k,j] = 1 + (k = j), n×n. */
function b(n: number): number[] {
  return Array.from({ length: n * n }, (_, x) => 1 + (Math.floor(x / n) === x % n ? 1 : 0));
}
/** (A·B)[i,j] = Σ_k (i + k + offset) + (i + j + offset) = n(i + offset) + n(n−1)/2 + i + j + offset. */
function expected(n: number, i: number, j: number, offset = 0): number {
  return n * (i + offset) + (n * (n - 1)) / 2 + i + j + offset;
}

describe('batchMatMulConfig', () => {
  it('SMALL_PRODUCT is 2^15 multiply-adds per item', () => {
    expect(SMALL_PRODUCT).toBe(32768);
    expect(N * N * N).toBe(SMALL_PRODUCT);
  });

  it('Aᵀ·B and A·Bᵀ at SMALL_PRODUCT: exact, one built-in call per item, no leak', async () => {
    const at = a(N, N); // A is symmetric in i,k; transposing it is the same matrix
    const before = builtinCalls;
    const r = await expectNoLeak(() =>
      tf.tidy(() => {
        const A = tf.tensor2d(at, [N, N]);
        const B = tf.tensor2d(b(N), [N, N]);
        return [
          Array.from(tf.matMul(A, B, true, false).dataSync()),
          Array.from(tf.matMul(A, B, false, true).dataSync()),
        ];
      }),
    );
    expect(builtinCalls - before).toBe(2); // each through the untransposed fast call
    for (const out of r) {
      expect([out[0], out[1], out[N + 2], out[N * N - 1]]).toEqual([
        expected(N, 0, 0),
        expected(N, 0, 1),
        expected(N, 1, 2),
        expected(N, N - 1, N - 1),
      ]);
    }
  });

  it('a batch of two broadcasts B and runs item by item', async () => {
    const before = builtinCalls;
    const out = await expectNoLeak(() =>
      tf.tidy(() => {
        const A = tf.tensor3d([...a(N, N), ...a(N, N, 100)], [2, N, N]);
        const B = tf.tensor3d(b(N), [1, N, N]);
        const y = tf.matMul(A, B);
        return { shape: y.shape, values: Array.from(y.dataSync()) };
      }),
    );
    expect(builtinCalls - before).toBe(2);
    expect(out.shape).toEqual([2, N, N]);
    expect([out.values[3], out.values[N * N + 3]]).toEqual([
      expected(N, 0, 3),
      expected(N, 0, 3, 100),
    ]);
  });

  it('a product below SMALL_PRODUCT, or untransposed and unbatched, is the built-in call itself', async () => {
    const before = builtinCalls;
    const r = await expectNoLeak(() =>
      tf.tidy(() => {
        const small = tf.matMul(
          tf.tensor2d([1, 2, 3, 4], [2, 2]),
          tf.tensor2d([5, 6, 7, 8], [2, 2]),
          true,
        );
        const plain = tf.matMul(tf.tensor2d(a(N, N), [N, N]), tf.tensor2d(b(N), [N, N]));
        return [Array.from(small.dataSync()), plain.dataSync()[N + 2]];
      }),
    );
    expect(builtinCalls - before).toBe(2);
    // [[1,3],[2,4]]·[[5,6],[7,8]]
    expect(r[0]).toEqual([26, 30, 38, 44]);
    expect(r[1]).toBe(expected(N, 1, 2));
  });
});
