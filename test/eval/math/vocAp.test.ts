import { describe, expect, it } from 'vitest';
import { vocAveragePrecision } from '../../../src/eval/math/vocAp';
import { loadGolden } from '../../helpers/golden';
import { expectClose } from '../../helpers/tensors';

describe('vocAveragePrecision', () => {
  it('matches voc-ap.json (all-point AP, difficult = negative)', () => {
    for (const c of loadGolden<{ scores: number[]; labels: number[]; expected: number }>(
      'voc-ap.json',
    ).cases) {
      expectClose([vocAveragePrecision(c.scores, c.labels)], [c.expected], {
        atol: 1e-12,
        rtol: 1e-12,
      });
    }
  });

  it('computes hand cases', () => {
    // Ranked labels +, −, +: precisions 1, ½, ⅔ → enveloped 1, ⅔, ⅔ → AP = ½·1 + ½·⅔.
    expectClose([vocAveragePrecision([0.9, 0.8, 0.7], [1, -1, 1])], [0.5 + 1 / 3]);
    expect(vocAveragePrecision([3, 2, 1], [1, 1, -1])).toBe(1);
    expect(vocAveragePrecision([1, 2, 3], [1, 0, -1])).toBeCloseTo(1 / 3, 12); // 0 = negative
    expect(vocAveragePrecision(new Float32Array([0.5]), new Int8Array([1]))).toBe(1);
  });

  it('breaks score ties by input order and returns NaN without positives', () => {
    expect(vocAveragePrecision([1, 1], [1, -1])).toBe(1);
    expect(vocAveragePrecision([1, 1], [-1, 1])).toBe(0.5);
    expect(vocAveragePrecision([1, 2], [-1, 0])).toBeNaN();
  });

  it('rejects mismatched lengths and NaN scores', () => {
    expect(() => vocAveragePrecision([1, 2], [1])).toThrow(/2 scores but 1 labels/);
    expect(() => vocAveragePrecision([1, NaN], [1, -1])).toThrow(/scores\[1\] is NaN/);
  });
});
