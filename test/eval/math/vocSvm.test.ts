import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/random';
import { lowShotVocSvm, sampleLowShot, vocSvmEvaluation } from '../../../src/eval/math/vocSvm';
import { vocNormalizeRows } from '../../../src/eval/math/rowNorm';

/** Three well-separated classes in 4-D, one label column per class (+1 / −1). */
function separable(n: number, seed: number) {
  const rng = createRng(seed);
  const dim = 4;
  const features = new Float32Array(n * dim);
  const labels = new Int8Array(n * 3).fill(-1);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let j = 0; j < dim; j++) features[i * dim + j] = (j === c ? 5 : 0) + 0.3 * rng.normal();
    labels[i * 3 + c] = 1;
  }
  return { features, labels };
}

describe('few-shot VOC07 SVMs (spec §9.5)', () => {
  it('normalises rows by ‖x‖ + 1e-5', () => {
    const out = vocNormalizeRows(Float32Array.from([3, 4, 0, 0]), 2);
    expect(out[0]).toBeCloseTo(3 / (5 + 1e-5), 7);
    expect(out[1]).toBeCloseTo(4 / (5 + 1e-5), 7);
    expect(Array.from(out.subarray(2))).toEqual([0, 0]);
  });

  it('gives 100% mAP on separable classes and counts difficult (0) as negative', () => {
    const train = separable(30, 1);
    const test = separable(15, 2);
    const r = vocSvmEvaluation(train, test, { dim: 4, numClasses: 3 });
    expect(r.mAP).toBeCloseTo(1, 12);
    expect(r.aps).toHaveLength(3);
    // A test image marked "difficult" for class 0 but scoring highest is a negative:
    test.labels[1 * 3 + 0] = 0; // image 1 (class 1) difficult for class 0: still negative, AP unchanged
    expect(vocSvmEvaluation(train, test, { dim: 4, numClasses: 3 }).aps[0]).toBeCloseTo(1, 12);
  });

  it('samples k positives per class with duplicates across classes allowed', () => {
    // 4 images, 2 classes; image 0 positive for both classes.
    const labels = Int8Array.from([1, 1, 1, -1, -1, 1, -1, 0]);
    const idx = sampleLowShot(labels, 2, 2, createRng(0));
    expect(idx).toHaveLength(4);
    const first = Array.from(idx.slice(0, 2)).sort();
    const second = Array.from(idx.slice(2)).sort();
    expect(first).toEqual([0, 1]); // the positives of class 0
    expect(second).toEqual([0, 2]); // the positives of class 1 (image 0 again)
  });

  it('runs the low-shot protocol: seeded runs, mean and population std', () => {
    const train = separable(60, 3);
    const test = separable(30, 4);
    const a = lowShotVocSvm(train, test, {
      dim: 4,
      numClasses: 3,
      shots: [1, 2],
      runs: 3,
      seed: 0,
    });
    const b = lowShotVocSvm(train, test, {
      dim: 4,
      numClasses: 3,
      shots: [1, 2],
      runs: 3,
      seed: 0,
    });
    expect(a).toEqual(b);
    for (const r of a) {
      expect(r.runs).toHaveLength(3);
      const mean = r.runs.reduce((s, v) => s + v, 0) / 3;
      expect(r.mean).toBeCloseTo(mean, 12);
      expect(r.std).toBeCloseTo(Math.sqrt(r.runs.reduce((s, v) => s + (v - mean) ** 2, 0) / 3), 12);
    }
  });

  it('rejects mismatched label arrays', () => {
    const train = separable(6, 1);
    expect(() =>
      vocSvmEvaluation({ features: train.features, labels: new Int8Array(5) }, train, {
        dim: 4,
        numClasses: 3,
      }),
    ).toThrow(/train.labels: expected n·numClasses = 6·3 values, got 5/);
  });
});
