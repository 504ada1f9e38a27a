import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/random';
import { FlatIndex, getFaissThreads, kmeansFaiss, setFaissThreads } from '../../src/search/faiss';
import { expectClose } from '../helpers/tensors';

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

/** Brute-force reference in float64: per query, all (score, id) sorted best first. */
function bruteForce(bank: Float32Array, q: Float32Array, dim: number, metric: 'ip' | 'l2') {
  const n = bank.length / dim;
  const nq = q.length / dim;
  const out: { score: number; id: number }[][] = [];
  for (let i = 0; i < nq; i++) {
    const row: { score: number; id: number }[] = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) {
        const a = q[i * dim + t];
        const b = bank[j * dim + t];
        s += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      row.push({ score: s, id: j });
    }
    row.sort((u, v) => (metric === 'ip' ? v.score - u.score : u.score - v.score));
    out.push(row);
  }
  return out;
}

describe('FlatIndex', () => {
  const dim = 12;
  const bank = randomRows(200, dim, 1);
  // 37 queries: above faiss's BLAS threshold (20), so the sgemm path is exercised too.
  const queries = randomRows(37, dim, 2);

  for (const metric of ['ip', 'l2'] as const) {
    it(`${metric}: exact neighbours and distances vs brute force`, () => {
      const index = new FlatIndex(dim, metric);
      index.add(bank.subarray(0, 120 * dim));
      index.add(bank.subarray(120 * dim)); // two adds: ids continue at 120
      expect(index.ntotal).toBe(200);
      const k = 7;
      const r = index.search(queries, k);
      expect(r.distances).toBeInstanceOf(Float32Array);
      expect(r.labels).toBeInstanceOf(Int32Array);
      expect([r.nq, r.k, r.labels.length]).toEqual([37, k, 37 * k]);
      const ref = bruteForce(bank, queries, dim, metric);
      for (let i = 0; i < 37; i++) {
        const want = ref[i].slice(0, k);
        expect(Array.from(r.labels.subarray(i * k, (i + 1) * k))).toEqual(want.map((w) => w.id));
        expectClose(
          r.distances.subarray(i * k, (i + 1) * k),
          want.map((w) => w.score),
          { atol: 1e-4, rtol: 1e-5, label: `distances of query ${i}` },
        );
      }
      index.dispose();
    });
  }

  it('chunked search equals one-shot search (incl. a ragged last chunk)', () => {
    const index = new FlatIndex(dim, 'ip');
    index.add(bank);
    const whole = index.search(queries, 5, { chunkSize: 1000 });
    for (const chunkSize of [1, 8, 36]) {
      const part = index.search(queries, 5, { chunkSize });
      expect(Array.from(part.labels)).toEqual(Array.from(whole.labels));
      expectClose(part.distances, whole.distances, { atol: 1e-5, label: `chunk ${chunkSize}` });
    }
  });

  it('hand-worked inner products', () => {
    const index = new FlatIndex(3, 'ip');
    index.add(new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]));
    const r = index.search(new Float32Array([1, 2, 3]), 3);
    expect(Array.from(r.labels)).toEqual([2, 1, 0]);
    expect(Array.from(r.distances)).toEqual([3, 2, 1]);
  });

  it('rejects bad input with the field named', () => {
    expect(() => new FlatIndex(0, 'ip')).toThrow(/dim must be a positive integer/);
    expect(() => new FlatIndex(4, 'cos' as 'ip')).toThrow(/metric must be 'ip' or 'l2'/);
    const index = new FlatIndex(4, 'l2');
    expect(() => index.add(new Float32Array(6))).toThrow(
      /add: x has length 6, not a multiple of dim 4/,
    );
    expect(() => index.add([1, 2, 3, 4] as unknown as Float32Array)).toThrow(
      /must be a Float32Array/,
    );
    index.add(new Float32Array(8));
    expect(() => index.search(new Float32Array(4), 3)).toThrow(/k = 3 exceeds ntotal = 2/);
    expect(() => index.search(new Float32Array(4), 0)).toThrow(/k must be a positive integer/);
    expect(() => index.search(new Float32Array(4), 1, { chunkSize: 0 })).toThrow(/chunkSize/);
    index.dispose();
    expect(() => index.ntotal).toThrow(/after dispose/);
  });
});

describe('threads', () => {
  it('sets and reads the OpenMP thread count', () => {
    const before = getFaissThreads();
    setFaissThreads(1);
    expect(getFaissThreads()).toBe(1);
    setFaissThreads(before);
    expect(() => setFaissThreads(0)).toThrow(/positive integer/);
  });
});

describe('kmeansFaiss', () => {
  it('finds three well-separated blobs and is deterministic under a seed', () => {
    const dim = 4;
    const centres = [
      [10, 0, 0, 0],
      [0, 10, 0, 0],
      [0, 0, 10, 0],
    ];
    const rng = createRng(7);
    const n = 150;
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++)
      for (let t = 0; t < dim; t++) x[i * dim + t] = centres[i % 3][t] + 0.1 * rng.normal();
    const opts = { k: 3, niter: 10, nredo: 2, seed: 3, minPointsPerCentroid: 1 };
    const a = kmeansFaiss(x, n, dim, opts);
    const b = kmeansFaiss(x, n, dim, opts);
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(a.objective).toBe(b.objective);
    // Every true centre is matched by a centroid within 0.1.
    for (const c of centres) {
      let best = Infinity;
      for (let j = 0; j < 3; j++) {
        let d = 0;
        for (let t = 0; t < dim; t++) d += (a.centroids[j * dim + t] - c[t]) ** 2;
        best = Math.min(best, Math.sqrt(d));
      }
      expect(best).toBeLessThan(0.1);
    }
    expect(a.objectives.length).toBeGreaterThanOrEqual(10);
  });

  it('spherical centroids have unit norm', () => {
    const dim = 5;
    const x = randomRows(300, dim, 11);
    const r = kmeansFaiss(x, 300, dim, { k: 4, niter: 5, spherical: true, seed: 1 });
    for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += r.centroids[j * dim + t] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 5);
    }
  });

  it('rejects bad input', () => {
    const x = new Float32Array(20);
    expect(() => kmeansFaiss(x, 5, 4, { k: 6 })).toThrow(/k = 6 exceeds the number of points 5/);
    expect(() => kmeansFaiss(x, 4, 4, { k: 2 })).toThrow(/x has 5 rows, expected n = 4/);
    expect(() => kmeansFaiss(x, 5, 4, { k: 2, niter: 0 })).toThrow(
      /niter must be a positive integer/,
    );
  });
});

describe('FlatIndex.reserve', () => {
  it('pre-sizing keeps add/search results unchanged', () => {
    const dim = 3;
    const index = new FlatIndex(dim, 'l2');
    index.reserve(4);
    index.add(new Float32Array([0, 0, 0, 1, 1, 1]));
    index.add(new Float32Array([5, 5, 5, 2, 2, 2]));
    expect(index.ntotal).toBe(4);
    expect(Array.from(index.search(new Float32Array([1.9, 2, 2]), 2).labels)).toEqual([3, 1]);
    expect(() => index.reserve(-1)).toThrow(/non-negative integer/);
  });
});
