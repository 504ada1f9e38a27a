/** What the native kernels read of a tensor (src/backend/native/heap.ts): size, dtype, backend. */
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { allFloat, heapBackend, size, type KernelArgs } from '../../../src/backend/native/heap';

const info = (shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo => ({
  dataId: {},
  shape,
  dtype,
});

describe('heap helpers', () => {
  it('size is the product of the shape (1 for a scalar, 0 when any axis is 0)', () => {
    expect([size(info([2, 3, 4])), size(info([])), size(info([5, 0, 2]))]).toEqual([24, 1, 0]);
  });

  it('allFloat: every tensor float32 and non-empty', () => {
    expect(allFloat([info([2]), info([1, 1])])).toBe(true);
    expect(allFloat([info([2]), info([2], 'int32')])).toBe(false);
    expect(allFloat([info([2]), info([0, 3])])).toBe(false);
    expect(allFloat([])).toBe(true);
  });

  it("heapBackend is the kernel's own backend object", () => {
    const backend = { wasm: { HEAPU8: new Uint8Array(4) } } as unknown as tf.KernelBackend;
    const args: KernelArgs = { inputs: {}, backend, attrs: {} };
    expect(heapBackend(args)).toBe(backend);
  });
});
