/**
 * The faiss benchmarks at tiny sizes, ours only (the Python faiss peer is not on every
 * machine): the row's id, unit and notes say what was measured; no figure is checked.
 */
import { describe, expect, it } from 'vitest';
import { benchFaissKmeans, benchFaissKnn } from '../../src/bench/faissBench';
import { getFaissThreads } from '../../src/search/faiss';

const TINY = { threads: 1, noPeer: true };

describe('faiss benchmarks (ours only)', () => {
  it('k-NN: add + search on a flat inner-product index, threads restored', () => {
    const before = getFaissThreads();
    const r = benchFaissKnn({ ...TINY, n: 2000, nq: 10, dim: 4, k: 3 });
    expect(getFaissThreads()).toBe(before);
    expect(r).toMatchObject({
      scenario: 'knn-2k x4-0.01k-k3',
      unit: 'seconds (add+search)',
      higherIsBetter: false,
      peer: null,
      speedRatio: null,
      backend: 'faiss',
    });
    expect(r.ours).toBeGreaterThan(0);
    expect(r.notes[0]).toBe('2000×4 bank, 10 queries, k 3, IndexFlatIP');
    expect(r.notes).toContain('peer skipped (noPeer)');
  });

  it('k-means: the id names sizes, clusters and iterations', () => {
    const r = benchFaissKmeans({ ...TINY, n: 1000, dim: 4, k: 5, niter: 2 });
    expect(r.scenario).toBe('kmeans-1k x4-k5-it2');
    expect(r.peer).toBeNull();
    expect(r.notes).toContain('peer skipped (noPeer)');
  });

  it('refuses zero repeats', () => {
    expect(() => benchFaissKnn({ ...TINY, n: 1000, nq: 1, dim: 2, k: 1, repeats: 0 })).toThrow(
      'benchFaissKnn: repeats must be >= 1',
    );
  });
});
