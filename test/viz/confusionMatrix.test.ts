import { describe, expect, it } from 'vitest';
import { confusionCounts, confusionMatrixFigure } from '../../src/viz/confusionMatrix';

describe('confusionCounts', () => {
  it('rows are true labels, columns predictions', () => {
    expect(Array.from(confusionCounts([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3))).toEqual([
      1, 1, 0, 0, 1, 0, 1, 0, 1,
    ]);
    expect(() => confusionCounts([0], [3], 3)).toThrow(/outside/);
    expect(() => confusionCounts([0], [], 3)).toThrow(/predictions/);
  });
});

describe('confusionMatrixFigure', () => {
  it('row-normalised heatmap with raw counts and accuracy in the title', () => {
    const fig = confusionMatrixFigure([3, 1, 0, 2], 2, { classNames: ['a', 'b'] });
    const t = fig.data[0];
    expect(t).toMatchObject({
      type: 'heatmap',
      x: ['a', 'b'],
      y: ['a', 'b'],
      customdata: [
        [3, 1],
        [0, 2],
      ],
    });
    expect(t.z).toEqual([
      [0.75, 0.25],
      [0, 1],
    ]);
    expect(fig.layout.title?.text).toBe('Confusion matrix (accuracy 83.3%)');
    expect(t.texttemplate).toBeDefined();
    expect(() => confusionMatrixFigure([1, 2, 3], 2)).toThrow(/2×2/);
  });

  it('an empty class row stays zero instead of NaN', () => {
    expect(confusionMatrixFigure([0, 0, 1, 1], 2).data[0].z).toEqual([
      [0, 0],
      [0.5, 0.5],
    ]);
  });
});
