/**
 * `Slice` and `SplitV` on wasm (src/backend/kernels/slice.ts): copied from the heap, the
 * same values as the index arithmetic says, at every rank, contiguous or not; strings keep
 * the built-in. Each case is also checked against the `cpu` backend's kernels.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { sliceConfig, splitVConfig } from '../../../src/backend/kernels/slice';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

/** 0, 1, 2, … in `shape` (row-major), so each value names its own flat index. */
const iota = (shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i),
    shape,
  );

/** The values of x[begin : begin + size] by the definition (row-major flat indices). */
function expected(shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const walk = (d: number, at: number) => {
    if (d === shape.length) return void out.push(at);
    for (let i = 0; i < size[d]; i++) walk(d + 1, at + (begin[d] + i) * strides[d]);
  };
  walk(0, 0);
  return out;
}

const CASES: [number[], number[], number[]][] = [
  [[7], [2], [4]], // rank 1
  [
    [6, 5],
    [2, 0],
    [3, 5],
  ], // whole rows: contiguous
  [
    [6, 5],
    [1, 2],
    [4, 3],
  ], // inner columns
  [
    [3, 4, 5],
    [1, 1, 2],
    [2, 3, 2],
  ],
  [
    [2, 3, 4, 5],
    [1, 0, 1, 1],
    [1, 3, 2, 4],
  ],
  [
    [2, 2, 3, 2, 3],
    [0, 1, 1, 0, 2],
    [2, 1, 2, 2, 1],
  ], // rank 5
  [
    [4, 3],
    [1, 0],
    [0, 3],
  ], // empty
];

describe('Slice on wasm', () => {
  it('copies exactly the indexed values at ranks 1–5, contiguous or not, and leaks nothing', async () => {
    for (const [shape, begin, size] of CASES) {
      const x = iota(shape);
      await expectNoLeak(async () => {
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        expect(Array.from(await y.data())).toEqual(expected(shape, begin, size));
        y.dispose();
      });
      x.dispose();
    }
  });

  it('matches the cpu backend on int32 and bool, and slices strings as the built-in does', async () => {
    const i = tf.tensor2d([1, -2, 3, -4, 5, -6], [3, 2], 'int32');
    const b = tf.tensor2d([1, 0, 1, 1, 0, 0], [2, 3], 'bool');
    const s = tf.tensor1d(['a', 'b', 'c', 'd'], 'string');
    const si = tf.slice(i, [1, 1], [2, 1]);
    const sb = tf.slice(b, [0, 1], [2, 2]);
    const ss = tf.slice(s, [1], [2]);
    expect([si.dtype, sb.dtype]).toEqual(['int32', 'bool']);
    expect(Array.from(await si.data())).toEqual([-4, -6]);
    expect(Array.from(await sb.data())).toEqual([0, 1, 0, 0]);
    expect(await ss.data()).toEqual(['b', 'c']);
    tf.dispose([i, b, s, si, sb, ss]);
  });

  it('SplitV: pieces of every axis equal the cpu backend, and its gradient (a concat) too', async () => {
    const shape = [4, 6, 3];
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const x = iota(shape);
      const out: number[][] = [];
      for (const [axis, split] of [
        [0, [1, 3]],
        [1, [2, 1, 3]],
        [2, 3],
        [-1, [2, 1]],
      ] as const) {
        const pieces = tf.split(x, split as number[] | number, axis);
        for (const p of pieces) out.push([...p.shape, ...(await p.data())]);
        tf.dispose(pieces);
      }
      // d/dx of Σ_i w_i · piece_i: the gradient of split (a concat of the weighted dy).
      const g = tf.grad((t: tf.Tensor) =>
        tf.addN(tf.split(t, [2, 4], 1).map((p, i) => tf.sum(tf.mul(p, i + 2)))),
      )(x);
      out.push(Array.from(await g.data()));
      tf.dispose([x, g]);
      return out;
    };
    const cpu = await run('cpu');
    const before = tf.memory().numTensors;
    const wasm = await run('wasm');
    expect(tf.memory().numTensors).toBe(before);
    expect(wasm).toEqual(cpu);
    // The gradient by hand: 2 on the first 2 columns of axis 1, 3 on the other 4.
    const grad = wasm[wasm.length - 1];
    expect(grad.slice(0, 18)).toEqual([...Array(6).fill(2), ...Array(12).fill(3)]);
    // Pieces of axis 0 ([1, 3]): the first is x[0], flat 0..17.
    expect(wasm[0]).toEqual([1, 6, 3, ...Array.from({ length: 18 }, (_, k) => k)]);
  });
});

describe('sliceConfig / splitVConfig', () => {
  it('name the kernel and backend, and hand strings (only) to the built-in', () => {
    const calls: string[] = [];
    const builtin = {
      kernelName: 'builtin',
      backendName: 'wasm',
      kernelFunc: () => {
        calls.push('builtin');
        return { dataId: {}, shape: [0], dtype: 'string' } as tf.TensorInfo;
      },
    } as tf.KernelConfig;
    const slice = sliceConfig('wasm', builtin);
    const splitV = splitVConfig('wasm', builtin);
    expect([slice.kernelName, slice.backendName]).toEqual(['Slice', 'wasm']);
    expect([splitV.kernelName, splitV.backendName]).toEqual(['SplitV', 'wasm']);
    const x = { dataId: {}, shape: [2], dtype: 'string' } as tf.TensorInfo;
    const backend = tf.backend();
    slice.kernelFunc({ inputs: { x }, attrs: { begin: [0], size: [1] }, backend });
    splitV.kernelFunc({ inputs: { x }, attrs: { numOrSizeSplits: 2, axis: 0 }, backend });
    expect(calls).toEqual(['builtin', 'builtin']);
  });
});
