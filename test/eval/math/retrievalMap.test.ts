import { describe, expect, it } from 'vitest';
import { revisitedMeanAP, revisitedPrecisionAtK } from '../../../src/eval/math/retrievalMap';
import { loadGolden } from '../../helpers/golden';
import { expectClose } from '../../helpers/tensors';

interface RetrievalCase {
  ranking: number[][];
  positives: number[][];
  junk: number[][];
  expected: { mAP: number; aps: (number | null)[] };
}

describe('revisitedMeanAP', () => {
  it('matches retrieval-map.json (null for queries without positives)', () => {
    for (const c of loadGolden<RetrievalCase>('retrieval-map.json').cases) {
      const r = revisitedMeanAP(c.ranking, c.positives, c.junk);
      expectClose([r.mAP], [c.expected.mAP], { atol: 1e-12, rtol: 1e-12 });
      expect(r.aps.map((x) => x === null)).toEqual(c.expected.aps.map((x) => x === null));
      expectClose(
        r.aps.filter((x): x is number => x !== null),
        c.expected.aps.filter((x): x is number => x !== null),
        { atol: 1e-12, rtol: 1e-12 },
      );
    }
  });

  it('removes junk ranked before a positive (trapezoidal AP by hand)', () => {
    // Ranking 5, 9, 7, 3: junk 9; positives 7 and 3 → adjusted ranks 1, 2.
    // AP = ½[(0/1 + 1/2) + (1/2 + 2/3)] / 2 = 5/12.
    const r = revisitedMeanAP([[5, 9, 7, 3]], [[7, 3]], [[9]]);
    expectClose([r.mAP, r.aps[0] as number], [5 / 12, 5 / 12], { atol: 1e-15 });
    expect(revisitedMeanAP([[1, 2, 3]], [[1]], [[]]).mAP).toBe(1);
    expect(revisitedMeanAP([[1, 2]], [[]], [[1]])).toEqual({ mAP: NaN, aps: [null] });
  });

  it('rejects lists of different lengths', () => {
    expect(() => revisitedMeanAP([[0]], [], [[]])).toThrow(/1 rankings, 0 positive lists/);
  });
});

describe('revisitedPrecisionAtK', () => {
  it('uses the reference definition k_q = min(last positive rank, k)', () => {
    const r = revisitedPrecisionAtK(
      [
        [5, 9, 7, 3],
        [1, 2, 3],
        [4, 4],
      ],
      [[7, 3], [2], []],
      [[9], [], []],
      [1, 2, 5],
    );
    // Query 0: 1-based adjusted ranks 2, 3 → p@1 = 0, p@2 = 1/2, p@5 (k_q = 3) = 2/3.
    // Query 1: rank 2 → p@1 = 0, p@2 = 1/2, p@5 (k_q = 2) = 1/2.
    expect(r.perQuery[2]).toBeNull();
    expectClose(r.perQuery[0] as number[], [0, 0.5, 2 / 3]);
    expectClose(r.perQuery[1] as number[], [0, 0.5, 0.5]);
    expectClose(r.mean, [0, 0.5, 7 / 12]);
    expect(() => revisitedPrecisionAtK([[0]], [[0]], [[]], [0])).toThrow(/positive integer/);
  });
});
