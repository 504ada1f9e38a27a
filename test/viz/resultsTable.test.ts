import { describe, expect, it } from 'vitest';
import { resultRowsFromJson, resultsTableFigure } from '../../src/viz/resultsTable';

describe('resultsTableFigure', () => {
  it('fractions as percentages with the paper value and the difference', () => {
    const fig = resultsTableFigure([
      { protocol: 'k-NN', dataset: 'ImageNet', metric: 'top1', value: 0.7123, paper: 0.713 },
      { protocol: 'clustering', metric: 'loss', value: 12.5 },
    ]);
    const cells = (fig.data[0].cells as { values: string[][] }).values;
    expect(cells[0]).toEqual(['k-NN', 'clustering']);
    expect(cells[2]).toEqual(['top1 (%)', 'loss']);
    expect(cells[3]).toEqual(['71.23', '12.5000']);
    expect(cells[4]).toEqual(['71.30', '']);
    expect(cells[5]).toEqual(['-0.07', '']);
  });
});

describe('resultRowsFromJson', () => {
  it('flattens numeric leaves, skips arrays and bulky keys, takes protocol/dataset fields', () => {
    const rows = resultRowsFromJson('knn', {
      protocol: 'weighted k-NN',
      dataset: 'fmnist',
      20: { top1: 0.8, top5: 0.97, predictions: [1, 2] },
      aps: [0.1],
      seconds: 3,
    });
    expect(rows).toEqual([
      { protocol: 'weighted k-NN', dataset: 'fmnist', metric: '20.top1', value: 0.8 },
      { protocol: 'weighted k-NN', dataset: 'fmnist', metric: '20.top5', value: 0.97 },
    ]);
    expect(resultRowsFromJson('x', { a: 1 })[0]).toMatchObject({
      protocol: 'x',
      dataset: undefined,
    });
    expect(resultRowsFromJson('x', null)).toEqual([]);
  });
});
