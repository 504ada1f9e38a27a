/**
 * The k-means fallback against faiss::Clustering (the kit's binding over Debian's
 * libfaiss) on the same data and parameters. Both draw the same subsample and initial
 * centroids (faiss's own random numbers), so every iteration must assign alike: the
 * split counts are equal, the objectives and centroids equal within float32 rounding.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/random';
import { exactKmeans, type ExactKmeansParams } from '../../src/search/exactKmeans';
import { KMEANS_DEFAULTS, kmeansFaiss, searchEngine } from '../../src/search/faiss';
import { expectClose, initTestBackend } from '../helpers/tensors';

/** n points around `blobs` random centres (σ 0.3), so clusters are well defined. */
function blobs(n: number, dim: number, centres: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const c = Array.from({ length: centres * dim }, () => 3 * rng.normal());
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const b = i % centres;
    for (let t = 0; t < dim; t++) x[i * dim + t] = c[b * dim + t] + 0.3 * rng.normal();
  }
  return x;
}

beforeAll(async () => {
  await initTestBackend();
  expect(searchEngine().engine).toBe('faiss');
});

const cases: { name: string; n: number; dim: number; k: number; p: Partial<ExactKmeansParams> }[] =
  [
    // 1 500 > 4·256: faiss trains on a subsample of 1 024 points.
    { name: 'L2, subsampled', n: 1500, dim: 16, k: 4, p: { niter: 12, seed: 7 } },
    {
      name: 'spherical, 3 redos',
      n: 800,
      dim: 12,
      k: 6,
      p: { spherical: true, nredo: 3, niter: 8 },
    },
  ];

/** 5 distinct points, each repeated 60 times: duplicate initial centroids leave clusters empty. */
function duplicates(dim: number): Float32Array {
  const base = blobs(5, dim, 5, 99);
  const x = new Float32Array(300 * dim);
  for (let i = 0; i < 300; i++) x.set(base.subarray((i % 5) * dim, ((i % 5) + 1) * dim), i * dim);
  return x;
}

describe('exactKmeans vs faiss::Clustering', () => {
  for (const c of cases) {
    it(c.name, () => {
      const x = blobs(c.n, c.dim, 5, c.n);
      const params: ExactKmeansParams = { ...KMEANS_DEFAULTS, spherical: false, ...c.p };
      const want = kmeansFaiss(x, c.n, c.dim, { k: c.k, ...params });
      const got = exactKmeans(x, c.n, c.dim, c.k, params, 'openblas');
      expect(Array.from(got.nsplit)).toEqual(Array.from(want.nsplit));
      expectClose(got.objectives, want.objectives, { atol: 1e-3, rtol: 1e-5, label: 'objectives' });
      expectClose(got.centroids, want.centroids, { atol: 1e-5, rtol: 1e-5, label: 'centroids' });
    });
  }

  it('empty clusters split as faiss splits them', () => {
    const x = duplicates(6);
    const params: ExactKmeansParams = {
      ...KMEANS_DEFAULTS,
      spherical: false,
      niter: 5,
      minPointsPerCentroid: 1,
    };
    const want = kmeansFaiss(x, 300, 6, { k: 8, ...params });
    const got = exactKmeans(x, 300, 6, 8, params, 'openblas');
    // The 8 initial points, rand_perm(300, 1235)[0..8), are copies of distinct points
    // 3 1 0 3 0 2 2 3: 4 distinct, so 4 centroids are duplicates and their clusters empty.
    expect(want.nsplit[0]).toBe(4);
    expect(Array.from(got.nsplit)).toEqual(Array.from(want.nsplit));
    expectClose(got.objectives, want.objectives, { atol: 1e-3, rtol: 1e-5, label: 'objectives' });
    expectClose(got.centroids, want.centroids, { atol: 1e-5, rtol: 1e-5, label: 'centroids' });
  });

  it('n = k: the centroids are the points, one record with objective 0 (as faiss)', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6);
    const got = exactKmeans(x, 3, 2, 3, { ...KMEANS_DEFAULTS, spherical: false }, 'openblas');
    const want = kmeansFaiss(x, 3, 2, { k: 3, minPointsPerCentroid: 1 });
    expect(Array.from(got.centroids)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(want.centroids)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(got.objectives)).toEqual(Array.from(want.objectives));
  });

  it('rejects NaN input and fewer points than clusters', () => {
    const p = { ...KMEANS_DEFAULTS, spherical: false };
    expect(() => exactKmeans(Float32Array.of(1, NaN, 2, 3), 2, 2, 1, p)).toThrow(/NaN or Inf/);
    expect(() => exactKmeans(Float32Array.of(1, 2), 1, 2, 2, p)).toThrow(/fewer than k = 2/);
  });
});
