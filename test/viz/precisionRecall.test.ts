import { describe, expect, it } from 'vitest';
import { precisionRecallCurve, precisionRecallFigure } from '../../src/viz/precisionRecall';

describe('precisionRecallCurve', () => {
  it('hand-worked ranking: relevant at ranks 1 and 3 of 4', () => {
    const c = precisionRecallCurve([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]);
    expect(c.precision).toEqual([1, 0.5, 2 / 3, 0.5]);
    expect(c.recall).toEqual([0.5, 0.5, 1, 1]);
    expect(c.thresholds).toEqual([0.9, 0.8, 0.7, 0.1]);
    expect(c.averagePrecision).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12); // (1 + 2/3) / 2
  });

  it('tied scores are one operating point, independent of input order', () => {
    const a = precisionRecallCurve([0.5, 0.5, 0.2], [1, 0, 1]);
    const b = precisionRecallCurve([0.5, 0.5, 0.2], [0, 1, 1]);
    expect(a).toEqual(b);
    expect(a.precision).toEqual([0.5, 2 / 3]);
    expect(a.averagePrecision).toBeCloseTo(0.5 * 0.5 + 0.5 * (2 / 3), 12);
  });

  it('no positives: empty curve, AP 0; length mismatch throws', () => {
    expect(precisionRecallCurve([1, 2], [0, 0])).toEqual({
      precision: [],
      recall: [],
      thresholds: [],
      averagePrecision: 0,
    });
    expect(() => precisionRecallCurve([1], [])).toThrow(/labels/);
  });
});

describe('precisionRecallFigure', () => {
  it('starts at recall 0, steps like the AP sum, AP in the legend', () => {
    const c = precisionRecallCurve([0.9, 0.8, 0.7], [1, 0, 1]);
    const fig = precisionRecallFigure([{ name: 'copydays', curve: c }]);
    expect(fig.data[0]).toMatchObject({
      x: [0, 0.5, 0.5, 1],
      y: [1, 1, 0.5, 2 / 3],
      line: { shape: 'vh' },
    });
    expect(fig.data[0].name).toBe('copydays (AP 83.3)');
  });
});
