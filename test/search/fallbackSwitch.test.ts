/**
 * CARP_FAISS: `0` routes FlatIndex and kmeansFaiss to the exact fallback (same results as
 * faiss), with one warning line per process; `1` requires faiss; anything else is an error.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src/random';
import { decideBinding } from '../../src/search/binding';
import { FlatIndex, kmeansFaiss, searchEngine } from '../../src/search/faiss';
import { expectClose, initTestBackend } from '../helpers/tensors';

const saved = process.env.CARP_FAISS;
afterEach(() => {
  if (saved === undefined) delete process.env.CARP_FAISS;
  else process.env.CARP_FAISS = saved;
});

beforeAll(async () => {
  await initTestBackend();
});

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/** k-NN labels and a k-means objective under the current CARP_FAISS. */
function run(bank: Float32Array, queries: Float32Array, dim: number) {
  const index = new FlatIndex(dim, 'ip');
  index.add(bank);
  const knn = index.search(queries, 5);
  index.dispose();
  const km = kmeansFaiss(bank, bank.length / dim, dim, { k: 4, niter: 10, seed: 3 });
  return { engine: searchEngine().engine, labels: Array.from(knn.labels), km };
}

describe('CARP_FAISS', () => {
  it('0 forces the fallback; results equal faiss on the same data', () => {
    const dim = 20;
    const bank = randomRows(1200, dim, 8);
    const queries = randomRows(30, dim, 9);
    process.env.CARP_FAISS = '1';
    const faiss = run(bank, queries, dim);
    process.env.CARP_FAISS = '0';
    const exact = run(bank, queries, dim);
    expect(faiss.engine).toBe('faiss');
    // test-all.sh requires the native addon, so the fallback runs on its OpenBLAS.
    expect(exact.engine).toBe('exact-openblas');
    expect(exact.labels).toEqual(faiss.labels);
    expect(exact.km.objective).toBeCloseTo(faiss.km.objective, 2);
    expectClose(exact.km.centroids, faiss.km.centroids, { atol: 1e-5, label: 'centroids' });
  });

  it('a value other than 0 or 1 is an error naming the variable', () => {
    process.env.CARP_FAISS = 'no';
    expect(() => searchEngine()).toThrow(/CARP_FAISS="no" must be 0 \(fallback\) or 1/);
  });

  it('1 where the binding is not built is an error, not a silent fallback', () => {
    const notBuilt = () => ({ reason: 'not built (build/faiss/faiss_node.node missing)' });
    expect(() => decideBinding('1', notBuilt)).toThrow(
      'faiss binding required by CARP_FAISS=1 but not built (build/faiss/faiss_node.node missing)',
    );
    expect(decideBinding(undefined, notBuilt)).toEqual(notBuilt());
    expect(decideBinding('0', notBuilt)).toEqual({ reason: 'disabled by CARP_FAISS=0' });
  });

  it('one warning line per process, naming the reason and the engine', () => {
    const script = `
      const { FlatIndex, kmeansFaiss } = require('./src/search/faiss.ts');
      for (const m of ['ip', 'l2', 'ip']) { const a = new FlatIndex(2, m); a.add(Float32Array.of(1, 0, 0, 1)); a.search(Float32Array.of(2, 1), 2); }
      kmeansFaiss(Float32Array.of(0, 0, 1, 1, 5, 5, 6, 6), 4, 2, { k: 2, minPointsPerCentroid: 1 });
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, CARP_FAISS: '0' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      'carp-kit: warning: faiss binding disabled by CARP_FAISS=0; k-NN and k-means use the exact fallback on the native OpenBLAS addon',
    ]);
  });
});
