/**
 * The exact fallback against faiss itself (the kit's binding over Debian's libfaiss) on
 * the same data: identical neighbour labels on non-tied data, distances within float32
 * rounding, on both product engines (the native OpenBLAS addon and tfjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/random';
import { ExactIndex } from '../../src/search/exactIndex';
import { FlatIndex, searchEngine } from '../../src/search/faiss';
import { TopK } from '../../src/search/topK';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

beforeAll(async () => {
  await initTestBackend();
  // The comparisons below are only meaningful against the real faiss.
  expect(searchEngine().engine).toBe('faiss');
});

describe('TopK', () => {
  it('keeps the k largest, ties by lower id, NaN never kept (hand-worked)', () => {
    const h = new TopK(1, 3, true);
    // ids 10..15: scores 1, 5, NaN, 5, 7, 1
    h.offer(Float32Array.of(1, 5, NaN, 5, 7, 1), 6, 10);
    const s = new Float32Array(3);
    const ids = new Int32Array(3);
    h.sortedInto(s, ids, 0);
    expect(Array.from(s)).toEqual([7, 5, 5]);
    expect(Array.from(ids)).toEqual([14, 11, 13]);
  });

  it('keeps the k smallest across two blocks', () => {
    const h = new TopK(2, 2, false);
    h.offer(Float32Array.of(4, 3, 9, 1), 2, 0); // row 0: ids 0,1; row 1: ids 0,1
    h.offer(Float32Array.of(2, 8, 0, 5), 2, 2); // ids 2,3
    const s = new Float32Array(4);
    const ids = new Int32Array(4);
    h.sortedInto(s, ids, 0);
    expect(Array.from(s)).toEqual([2, 3, 0, 1]);
    expect(Array.from(ids)).toEqual([2, 1, 2, 1]);
  });
});

describe('ExactIndex vs faiss', () => {
  // 2 500 bank rows: three 1024-row bank blocks, the last one ragged.
  const dim = 48;
  const bank = randomRows(2500, dim, 3);
  const queries = randomRows(60, dim, 4);
  const k = 10;

  for (const metric of ['ip', 'l2'] as const) {
    const faiss = new FlatIndex(dim, metric);
    faiss.add(bank);
    const want = faiss.search(queries, k);
    faiss.dispose();

    for (const engine of ['openblas', 'tfjs'] as const) {
      it(`${metric} on ${engine}: same labels, distances within rounding`, async () => {
        const got = await expectNoLeak(() => {
          const index = new ExactIndex(dim, metric, engine);
          index.add(bank.subarray(0, 1000 * dim));
          index.add(bank.subarray(1000 * dim));
          expect(index.ntotal()).toBe(2500);
          const r = index.search(queries, k);
          index.release();
          return r;
        });
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
        expectClose(got.distances, want.distances, { atol: 1e-4, rtol: 1e-5, label: metric });
      });
    }
  }

  it('more than one query block (4 096) and reserve(): same as faiss', () => {
    const d = 8;
    const b = randomRows(1100, d, 5);
    const q = randomRows(4100, d, 6);
    const faiss = new FlatIndex(d, 'l2');
    faiss.add(b);
    const want = faiss.search(q, 3);
    faiss.dispose();
    const index = new ExactIndex(d, 'l2', 'openblas');
    index.reserve(1100);
    index.add(b);
    const got = index.search(q, 3);
    expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
    expectClose(got.distances, want.distances, { atol: 1e-4, rtol: 1e-5 });
  });

  it('hand-worked: L2 distances of an identical and another vector', () => {
    const index = new ExactIndex(3, 'l2', 'openblas');
    index.add(Float32Array.of(0.1, 0.2, 0.3, 1, 1, 1));
    const r = index.search(Float32Array.of(0.1, 0.2, 0.3), 2);
    expect(Array.from(r.labels)).toEqual([0, 1]);
    // ‖q‖² + ‖b‖² − 2·q·b in float32 leaves round-off (faiss's BLAS path too).
    expect(r.distances[0]).toBeCloseTo(0, 6);
    // ‖(0.9, 0.8, 0.7)‖² = 1.94
    expect(r.distances[1]).toBeCloseTo(1.94, 5);
  });

  it('rejects k outside [1, ntotal]', () => {
    const index = new ExactIndex(2, 'ip', 'openblas');
    index.add(Float32Array.of(1, 0));
    expect(() => index.search(Float32Array.of(1, 1), 2)).toThrow(
      /k must be in \[1, ntotal = 1\], got 2/,
    );
  });
});
