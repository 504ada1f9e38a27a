import { describe, expect, it } from 'vitest';
import { lossCurvesFigure, metricSeries, scheduleFigure } from '../../src/viz/trainingCurves';

const rows = [
  { step: 0, loss: 5, consistency: 3, entropy: 2, lr: 0.1, momentum: 0.99, wd: 1e-6 },
  { step: 10, loss: 4, consistency: 2.5, entropy: 1.5, lr: 0.2, momentum: 0.995 },
  { step: 20, 'loss/total': 3, consistency: NaN, lr: 0.3 }, // reference-style key, diverged term
  { epoch: 1, note: 'not a step row' },
];

describe('metricSeries', () => {
  it('takes x from step, y from the first key present, NaN as a gap, skips rows without it', () => {
    expect(metricSeries(rows, ['loss', 'loss/total'])).toEqual({ x: [0, 10, 20], y: [5, 4, 3] });
    expect(metricSeries(rows, ['consistency'])).toEqual({ x: [0, 10, 20], y: [3, 2.5, null] });
    expect(metricSeries(rows, ['missing'])).toEqual({ x: [], y: [] });
  });

  it('falls back to the row index without a step field', () => {
    expect(metricSeries([{ loss: 1 }, { loss: 2 }], ['loss'])).toEqual({ x: [0, 1], y: [1, 2] });
  });
});

describe('lossCurvesFigure', () => {
  it('draws total, consistency and entropy as named lines', () => {
    const fig = lossCurvesFigure(rows);
    expect(fig.data.map((t) => t.name)).toEqual(['total', 'consistency', 'entropy']);
    expect(fig.data[2]).toMatchObject({ type: 'scatter', mode: 'lines', x: [0, 10], y: [2, 1.5] });
    expect(fig.layout.title?.text).toBe('CARP loss');
    expect(JSON.parse(JSON.stringify(fig))).toEqual(fig); // plain JSON data
  });

  it('leaves out absent series and honours logY and the title', () => {
    const fig = lossCurvesFigure([{ step: 1, loss: 2 }], { logY: true, title: 'T' });
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0].mode).toBe('markers'); // a single point is invisible as a line
    expect(fig.layout.yaxis).toMatchObject({ type: 'log' });
    expect(fig.layout.title?.text).toBe('T');
  });
});

describe('scheduleFigure', () => {
  it('stacks one panel per logged schedule on a shared step axis', () => {
    const fig = scheduleFigure(rows);
    expect(fig.data.map((t) => [t.name, t.yaxis])).toEqual([
      ['learning rate', 'y'],
      ['teacher momentum', 'y2'],
      ['weight decay', 'y3'],
    ]);
    expect(fig.layout.grid).toMatchObject({ rows: 3, columns: 1 });
    expect(fig.layout.yaxis3).toMatchObject({ title: { text: 'weight decay' } });
  });

  it('has no panels when nothing was logged', () => {
    expect(scheduleFigure([{ step: 0, loss: 1 }]).data).toEqual([]);
  });
});
