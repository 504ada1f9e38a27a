import { describe, expect, it } from 'vitest';
import { knnCurveFigure, knnPoints } from '../../src/viz/knnCurve';

const result = {
  200: { top1: 0.7, top5: 0.9 },
  10: { top1: 0.72, top5: 0.88 },
  20: { top1: 0.74, top5: 0.91 },
};

describe('knnCurveFigure', () => {
  it('sorts by k numerically', () => {
    expect(knnPoints(result)).toEqual({
      k: [10, 20, 200],
      top1: [0.72, 0.74, 0.7],
      top5: [0.88, 0.91, 0.9],
    });
  });

  it('top-1 and dotted top-5 per series; log k axis for a wide k range', () => {
    const fig = knnCurveFigure(result);
    expect(fig.data.map((t) => t.name)).toEqual(['k-NN top-1', 'k-NN top-5']);
    expect(fig.data[1].line).toMatchObject({ dash: 'dot' });
    expect(fig.layout.xaxis).toMatchObject({ type: 'log' });
    expect(fig.layout.yaxis).toMatchObject({ tickformat: '.0%' });
  });

  it('several named series; top-5 only when present', () => {
    const fig = knnCurveFigure([
      { name: 'epoch 1', results: { 1: { top1: 0.5 }, 5: { top1: 0.6 } } },
      { name: 'epoch 2', results: { 1: { top1: 0.6 }, 5: { top1: 0.7 } } },
    ]);
    expect(fig.data.map((t) => t.name)).toEqual(['epoch 1 top-1', 'epoch 2 top-1']);
    expect(fig.layout.xaxis).toMatchObject({ type: 'linear' });
  });
});
