import { describe, expect, it } from 'vitest';
import {
  applyStandardizer,
  assignToCentroids,
  fitStandardizer,
  kmeansEvaluation,
  standardize,
} from '../../../src/eval/math/kmeans';
import { createRng } from '../../../src/random';
import { expectClose } from '../../helpers/tensors';

/** n points per cluster around offset + 6·e_c (c = 0..k-1) in dim dimensions, labels interleaved. */
function blobs(k: number, perCluster: number, dim: number, seed: number) {
  const rng = createRng(seed);
  const n = k * perCluster;
  const x = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let t = 0; t < dim; t++) x[i * dim + t] = 3 + (t === c ? 6 : 0) + 0.3 * rng.normal();
  }
  return { x, labels };
}

describe('standardisation (spec §9.3)', () => {
  it('population mean/std fitted on train, applied to test', () => {
    // dim 2: column 0 = [1, 3] → mean 2, std 1; column 1 constant 5 → std 1 (not NaN).
    const s = fitStandardizer(new Float32Array([1, 5, 3, 5]), 2);
    expect(Array.from(s.mean)).toEqual([2, 5]);
    expect(Array.from(s.std)).toEqual([1, 1]);
    expect(Array.from(applyStandardizer(new Float32Array([4, 7]), 2, s))).toEqual([2, 2]);
    const both = standardize(new Float32Array([0, 2, 4, 8]), new Float32Array([1, 5]), 1);
    // mean 3.5, population std sqrt((12.25+2.25+0.25+20.25)/4) = sqrt(8.75)
    expectClose(both.test, [(1 - 3.5) / Math.sqrt(8.75), (5 - 3.5) / Math.sqrt(8.75)], {
      atol: 1e-6,
    });
  });

  it('rejects bad shapes', () => {
    expect(() => fitStandardizer(new Float32Array(5), 2)).toThrow(/not a multiple of dim 2/);
    expect(() => fitStandardizer(new Float32Array(0), 2)).toThrow(/x is empty/);
    const s = fitStandardizer(new Float32Array(4), 2);
    expect(() => applyStandardizer(new Float32Array(3), 3, s)).toThrow(
      /has 2 dims, expected dim 3/,
    );
  });
});

describe('assignToCentroids', () => {
  it('arg-max inner product, point not normalised', () => {
    const centroids = new Float32Array([1, 0, 0, 1]);
    const a = assignToCentroids(new Float32Array([3, 1, -1, 2, 5, 4.9]), 2, centroids);
    expect(Array.from(a)).toEqual([0, 1, 0]);
  });
});

describe('kmeansEvaluation', () => {
  const k = 4;
  const dim = 6;
  const train = blobs(k, 60, dim, 1);
  const test = blobs(k, 25, dim, 2);
  const opts = {
    trainFeatures: train.x,
    testFeatures: test.x,
    dim,
    numClusters: k,
    niter: 10,
    nredo: 2,
    minPointsPerCentroid: 1,
  };

  it('recovers well-separated clusters (a one-to-one cluster↔class map)', () => {
    const r = kmeansEvaluation(opts);
    expect(r.assignments).toBeInstanceOf(Int32Array);
    expect(r.assignments.length).toBe(test.labels.length);
    expect(r.trainPointsUsed).toBe(240);
    const clusterOf = new Map<number, number>();
    for (let i = 0; i < test.labels.length; i++) {
      const c = test.labels[i];
      if (!clusterOf.has(c)) clusterOf.set(c, r.assignments[i]);
      expect(r.assignments[i], `point ${i}`).toBe(clusterOf.get(c));
    }
    expect(new Set(clusterOf.values()).size).toBe(k);
    expect(r.metrics).toBeUndefined();
    const withLabels = kmeansEvaluation({ ...opts, testLabels: test.labels });
    expect(withLabels.metrics?.nmi).toBeCloseTo(1, 12);
    expect(withLabels.metrics?.accuracy).toBe(1);
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += r.centroids[j * dim + t] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic under a seed', () => {
    const a = kmeansEvaluation({ ...opts, seed: 5 });
    const b = kmeansEvaluation({ ...opts, seed: 5 });
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(Array.from(a.assignments)).toEqual(Array.from(b.assignments));
    expect(a.objective).toBe(b.objective);
  });

  it('subsamples to maxPointsPerCentroid·k training points (faiss really clusters fewer)', () => {
    const full = kmeansEvaluation(opts);
    const r = kmeansEvaluation({ ...opts, maxPointsPerCentroid: 20 });
    expect(r.trainPointsUsed).toBe(80);
    // The objective is a sum over the points faiss clustered: on four equal, well-separated
    // blobs each point adds about the same, so 80 of 240 points give about a third of it.
    expect(r.objective / full.objective).toBeGreaterThan(0.28);
    expect(r.objective / full.objective).toBeLessThan(0.39);
  });

  it('rejects bad input', () => {
    expect(() => kmeansEvaluation({ ...opts, testLabels: new Int32Array(3) })).toThrow(
      /testLabels has 3 entries, expected 100/,
    );
    expect(() => kmeansEvaluation({ ...opts, testFeatures: new Float32Array(5) })).toThrow(
      /testFeatures has length 5, not a multiple of dim 6/,
    );
    expect(() => kmeansEvaluation({ ...opts, trainFeatures: new Float32Array(0) })).toThrow(
      /trainFeatures is empty/,
    );
    expect(() => kmeansEvaluation({ ...opts, numClusters: 0 })).toThrow(
      /numClusters must be an integer in \[1, 240\]/,
    );
  });
});
