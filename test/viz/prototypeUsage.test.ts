import { describe, expect, it } from 'vitest';
import { prototypeUsage } from '../../src/eval/math/prototypeUsage';
import { prototypesByUse, prototypeUsageFigure, usageSummary } from '../../src/viz/prototypeUsage';

describe('usageSummary', () => {
  it('uniform usage: perplexity K, max share 1/K', () => {
    const s = usageSummary([5, 5, 5, 5]);
    expect(s).toMatchObject({ numPrototypes: 4, total: 20, used: 4, maxShare: 0.25 });
    expect(s.perplexity).toBeCloseTo(4, 12);
  });

  it('collapse: perplexity 1, max share 1', () => {
    expect(usageSummary([0, 9, 0])).toEqual({
      numPrototypes: 3,
      total: 9,
      used: 1,
      perplexity: 1,
      maxShare: 1,
    });
  });

  it('hand-worked mix: counts [2, 1, 1] → exp(H) with H = 1.5 ln 2', () => {
    expect(usageSummary([2, 1, 1]).perplexity).toBeCloseTo(Math.exp(1.5 * Math.log(2)), 12);
  });

  it('empty counts do not divide by zero', () => {
    expect(usageSummary([0, 0])).toMatchObject({ total: 0, used: 0, perplexity: 0, maxShare: 0 });
  });
});

describe('prototypeUsageFigure', () => {
  it('sorts by usage (rank plot) and keeps prototype ids for hovering', () => {
    const fig = prototypeUsageFigure([1, 3, 0, 2]);
    expect(fig.data[0]).toMatchObject({
      type: 'bar',
      x: [0, 1, 2, 3],
      y: [3, 2, 1, 0],
      customdata: [1, 3, 0, 2],
    });
    expect(fig.layout.title?.text).toContain('3/4 used');
  });

  it("takes the evaluation's prototypeUsage result as is", () => {
    const usage = prototypeUsage([0, 2, 2, 3], 4);
    expect(prototypeUsageFigure(usage).data[0]).toMatchObject({ y: [2, 1, 1, 0] });
  });

  it('keeps index order when unsorted, and switches to a line for large K', () => {
    expect(prototypeUsageFigure([1, 3], { sorted: false }).data[0]).toMatchObject({
      x: [0, 1],
      y: [1, 3],
    });
    const big = prototypeUsageFigure(new Int32Array(4096).fill(1));
    expect(big.data[0]).toMatchObject({ type: 'scatter', fill: 'tozeroy' });
  });
});

describe('prototypesByUse', () => {
  it('most used first, ties by id; unused listed apart', () => {
    expect(prototypesByUse([3, 0, 5, 3, 0, 1])).toEqual({
      mostUsed: [2, 0, 3, 5],
      unused: [1, 4],
    });
    expect(prototypesByUse(Int32Array.from([0, 0]))).toEqual({ mostUsed: [], unused: [0, 1] });
  });
});
