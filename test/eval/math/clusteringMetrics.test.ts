import { describe, expect, it } from 'vitest';
import { clusteringMetrics } from '../../../src/eval/math/clusteringMetrics';
import { maxWeightMatching } from '../../../src/eval/math/linearAssignment';
import { createRng } from '../../../src/random';
import { loadGolden } from '../../helpers/golden';
import { expectClose } from '../../helpers/tensors';

const KEYS = [
  'nmi',
  'ami',
  'ari',
  'fowlkesMallows',
  'homogeneity',
  'completeness',
  'vMeasure',
  'accuracy',
] as const;
type Metrics = Record<(typeof KEYS)[number], number>;

const values = (m: Metrics) => KEYS.map((k) => m[k]);

/** Best one-to-one matching by trying every injection (small sizes only). */
function bruteForce(w: number[][]): number {
  const rows = w.length;
  const cols = w[0].length;
  const used = new Array(cols).fill(false);
  const go = (r: number): number => {
    if (r === rows) return 0;
    let best = go(r + 1); // row left unmatched
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      best = Math.max(best, w[r][c] + go(r + 1));
      used[c] = false;
    }
    return best;
  };
  return go(0);
}

function toEdges(w: number[][]): [number[], number[], number[]] {
  const r: number[] = [];
  const c: number[] = [];
  const x: number[] = [];
  w.forEach((row, i) => row.forEach((v, j) => (r.push(i), c.push(j), x.push(v))));
  return [r, c, x];
}

describe('clusteringMetrics', () => {
  it('matches clustering-metrics.json (sklearn definitions, Hungarian accuracy)', () => {
    for (const c of loadGolden<{ labels: number[]; assignments: number[]; expected: Metrics }>(
      'clustering-metrics.json',
    ).cases) {
      const m = clusteringMetrics(c.labels, c.assignments);
      expectClose(values(m), values(c.expected), {
        atol: 1e-12,
        rtol: 1e-9,
        label: KEYS.join('/'),
      });
    }
  });

  it('scores a perfect clustering (any cluster ids) as 1 everywhere', () => {
    const labels = [0, 0, 1, 1, 2, 2, 2];
    const m = clusteringMetrics(labels, [7, 7, 3, 3, -1, -1, -1]);
    expectClose(values(m), new Array(8).fill(1), { atol: 1e-12 });
  });

  it('follows sklearn on degenerate single-cluster cases', () => {
    // Both labellings one cluster: everything 1.
    expect(values(clusteringMetrics([5, 5, 5], [1, 1, 1]))).toEqual(new Array(8).fill(1));
    // One predicted cluster for 2 classes: MI = 0; completeness 1, homogeneity 0.
    const m = clusteringMetrics([0, 0, 1, 1], [0, 0, 0, 0]);
    expect(m.nmi).toBe(0);
    expect(m.ami).toBe(0);
    expect(m.ari).toBe(0);
    expect(m.homogeneity).toBe(0);
    expect(m.completeness).toBe(1);
    expect(m.vMeasure).toBe(0);
    expect(m.accuracy).toBe(0.5);
    expectClose([m.fowlkesMallows], [Math.sqrt(4 / 12)]); // TP = 4, pairs same cluster = 12
    // Every point its own cluster: homogeneity 1.
    expect(clusteringMetrics([0, 0, 1, 1], [0, 1, 2, 3]).homogeneity).toBe(1);
  });

  it('is symmetric where sklearn is and counts rectangular matchings', () => {
    const rng = createRng(11);
    const a = Array.from({ length: 60 }, () => rng.int(4));
    const b = Array.from({ length: 60 }, () => rng.int(7));
    const ab = clusteringMetrics(a, b);
    const ba = clusteringMetrics(b, a);
    expectClose(
      [ab.nmi, ab.ami, ab.ari, ab.fowlkesMallows, ab.accuracy],
      [ba.nmi, ba.ami, ba.ari, ba.fowlkesMallows, ba.accuracy],
      { atol: 1e-12 },
    );
    expectClose([ab.homogeneity], [ba.completeness], { atol: 1e-12 });
  });

  it('rejects mismatched or empty inputs', () => {
    expect(() => clusteringMetrics([0, 1], [0])).toThrow(/2 labels but 1 assignments/);
    expect(() => clusteringMetrics([], [])).toThrow(/no points/);
    expect(() => clusteringMetrics([0, NaN], [0, 1])).toThrow(/labels\[1\]/);
  });

  it('handles many clusters quickly (prototype-cluster scale: sparse contingency)', () => {
    const rng = createRng(5);
    const n = 20000;
    const labels = Array.from({ length: n }, () => rng.int(100));
    const assignments = labels.map((l) => (rng.next() < 0.5 ? l : 100 + rng.int(5000)));
    const t0 = performance.now();
    const m = clusteringMetrics(labels, assignments);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(m.accuracy).toBeGreaterThan(0.49);
    expect(m.homogeneity).toBeGreaterThan(m.completeness);
  });
});

describe('maxWeightMatching', () => {
  it('agrees with brute force on random square and rectangular tables', () => {
    const rng = createRng(2);
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + rng.int(6);
      const cols = 1 + rng.int(6);
      const density = rng.next();
      const w = Array.from({ length: rows }, () =>
        Array.from({ length: cols }, () => (rng.next() < density ? rng.int(10) : 0)),
      );
      const [r, c, x] = toEdges(w);
      const { rowToCol, total } = maxWeightMatching(rows, cols, r, c, x);
      expect(total).toBe(bruteForce(w));
      // The reported matching is one-to-one and achieves the total.
      const seen = new Set<number>();
      let sum = 0;
      rowToCol.forEach((col, row) => {
        if (col < 0) return;
        expect(seen.has(col)).toBe(false);
        seen.add(col);
        sum += w[row][col];
      });
      expect(sum).toBe(total);
    }
  });

  it('handles ties and an all-zero table', () => {
    expect(maxWeightMatching(2, 2, [0, 0, 1, 1], [0, 1, 0, 1], [1, 1, 1, 1]).total).toBe(2);
    const z = maxWeightMatching(2, 3, [0], [1], [0]);
    expect(z.total).toBe(0);
    expect(Array.from(z.rowToCol)).toEqual([-1, -1]);
  });
});
