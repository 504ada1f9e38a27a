import { describe, expect, it } from 'vitest';
import { weightedKnn, type WeightedKnnOptions } from '../../../src/eval/math/knn';
import { loadGolden } from '../../helpers/golden';

interface KnnCase {
  numClasses: number;
  temperature: number;
  trainFeatures: number[][];
  trainLabels: number[];
  testFeatures: number[][];
  testLabels: number[];
  expected: Record<string, { top1: number; top5: number; predictions: number[] }>;
}

function toOptions(c: KnnCase): WeightedKnnOptions {
  return {
    trainFeatures: Float32Array.from(c.trainFeatures.flat()),
    trainLabels: Int32Array.from(c.trainLabels),
    testFeatures: Float32Array.from(c.testFeatures.flat()),
    testLabels: Int32Array.from(c.testLabels),
    dim: c.trainFeatures[0].length,
    numClasses: c.numClasses,
    k: Object.keys(c.expected).map(Number),
    temperature: c.temperature,
  };
}

describe('weightedKnn (spec §9.2)', () => {
  const golden = loadGolden<KnnCase>('knn.json');

  golden.cases.forEach((c, i) => {
    it(`golden case ${i} (k = ${Object.keys(c.expected).join(', ')})`, () => {
      const out = weightedKnn(toOptions(c));
      for (const [k, want] of Object.entries(c.expected)) {
        const got = out[Number(k)];
        expect(Array.from(got.predictions), `predictions k=${k}`).toEqual(want.predictions);
        expect(Math.abs(got.top1 - want.top1), `top1 k=${k}`).toBeLessThan(1e-6);
        expect(Math.abs(got.top5 - want.top5), `top5 k=${k}`).toBeLessThan(1e-6);
      }
    });
  });

  it('query chunking does not change the result', () => {
    const o = toOptions(golden.cases[0]);
    const whole = weightedKnn(o);
    const chunked = weightedKnn({ ...o, chunkSize: 7 });
    for (const k of o.k) {
      expect(Array.from(chunked[k].predictions)).toEqual(Array.from(whole[k].predictions));
      expect(chunked[k].top5).toBe(whole[k].top5);
    }
  });

  it('hand-worked: weights, k capped at the bank, top-5 counts only voted classes', () => {
    // Bank (2-d): class 0 at angle 0, class 1 at 90°, class 2 at 180°. Query at 30°.
    const o: WeightedKnnOptions = {
      trainFeatures: new Float32Array([2, 0, 0, 3, -1, 0]),
      trainLabels: new Int32Array([0, 1, 2]),
      testFeatures: new Float32Array([Math.cos(Math.PI / 6), Math.sin(Math.PI / 6)]),
      testLabels: new Int32Array([1]),
      dim: 2,
      numClasses: 4,
      k: [1, 2, 10],
    };
    const out = weightedKnn(o);
    // k=1: nearest is class 0 (cos 30° > cos 60°); class 1 got no vote → top-5 miss.
    expect(Array.from(out[1].predictions)).toEqual([0]);
    expect([out[1].top1, out[1].top5]).toEqual([0, 0]);
    // k=2: classes 0 and 1 vote; exp(0.866/0.07) > exp(0.5/0.07) → 0 wins; 1 is in top-5.
    expect(Array.from(out[2].predictions)).toEqual([0]);
    expect([out[2].top1, out[2].top5]).toEqual([0, 1]);
    // k=10 > bank of 3: uses all three neighbours.
    expect([out[10].top1, out[10].top5]).toEqual([0, 1]);
  });

  it('rejects bad input with the field named', () => {
    const base: WeightedKnnOptions = {
      trainFeatures: new Float32Array(6),
      trainLabels: new Int32Array([0, 1, 0]),
      testFeatures: new Float32Array(2),
      testLabels: new Int32Array([1]),
      dim: 2,
      numClasses: 2,
      k: [1],
    };
    expect(() => weightedKnn({ ...base, dim: 3 })).toThrow(
      /trainFeatures has length 6, expected 3 rows × dim 3/,
    );
    expect(() => weightedKnn({ ...base, testFeatures: new Float32Array(3) })).toThrow(
      /testFeatures has length 3/,
    );
    expect(() => weightedKnn({ ...base, trainLabels: new Int32Array([0, 2, 0]) })).toThrow(
      /trainLabels\[1\] = 2 is outside \[0, numClasses = 2\)/,
    );
    expect(() => weightedKnn({ ...base, testLabels: new Int32Array([-1]) })).toThrow(
      /testLabels\[0\] = -1/,
    );
    expect(() =>
      weightedKnn({ ...base, trainFeatures: new Float32Array(0), trainLabels: new Int32Array(0) }),
    ).toThrow(/trainFeatures is empty/);
    expect(() =>
      weightedKnn({ ...base, testFeatures: new Float32Array(0), testLabels: new Int32Array(0) }),
    ).toThrow(/testFeatures is empty/);
    expect(() => weightedKnn({ ...base, k: [] })).toThrow(/k must be a non-empty list/);
    expect(() => weightedKnn({ ...base, k: [0] })).toThrow(/k must be a non-empty list/);
    expect(() => weightedKnn({ ...base, temperature: 0 })).toThrow(/temperature must be > 0/);
  });
});
