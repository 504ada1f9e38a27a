import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/random';
import { embeddingScatterFigure, umapEmbedding } from '../../src/viz/embeddingScatter';

/** Three well-separated Gaussian clusters in 8-D, 20 points each. */
function clusters(): { features: Float32Array; labels: Int32Array } {
  const rng = createRng(3);
  const n = 60;
  const dim = 8;
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let d = 0; d < dim; d++)
      features[i * dim + d] = (d === labels[i] ? 10 : 0) + 0.3 * rng.normal();
  }
  return { features, labels };
}

describe('umapEmbedding', () => {
  it('is deterministic for a seed and keeps clusters apart', () => {
    const { features, labels } = clusters();
    const a = umapEmbedding(features, 8, { seed: 1, nEpochs: 50 });
    const b = umapEmbedding(features, 8, { seed: 1, nEpochs: 50 });
    expect(a).toHaveLength(120);
    expect(Array.from(a)).toEqual(Array.from(b));
    // every point's nearest embedded neighbour has its label
    for (let i = 0; i < 60; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < 60; j++) {
        if (j === i) continue;
        const d = (a[2 * i] - a[2 * j]) ** 2 + (a[2 * i + 1] - a[2 * j + 1]) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      expect(labels[best]).toBe(labels[i]);
    }
  });

  it('rejects bad shapes and tiny sets', () => {
    expect(() => umapEmbedding(new Float32Array(5), 2)).toThrow(/not \[N, 2\]/);
    expect(() => umapEmbedding(new Float32Array(4), 2)).toThrow(/at least 3/);
  });
});

describe('embeddingScatterFigure', () => {
  const points = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3]);

  it('one legend entry per class, with class names', () => {
    const fig = embeddingScatterFigure(points, [1, 0, 1, 0], { groupNames: ['shirt', 'shoe'] });
    expect(fig.data.map((t) => [t.name, t.x, t.y])).toEqual([
      ['shirt', [1, 3], [1, 3]],
      ['shoe', [0, 2], [0, 2]],
    ]);
    expect(fig.layout.title?.text).toContain('class');
  });

  it('many prototypes: one trace, palette colours per point, no legend per group', () => {
    const fig = embeddingScatterFigure(points, [0, 1, 2, 3], {
      colorBy: 'prototype',
      maxLegendGroups: 2,
    });
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0].marker).toMatchObject({
      color: ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'],
    });
    expect(fig.data[0].text).toEqual(['prototype 0', 'prototype 1', 'prototype 2', 'prototype 3']);
  });

  it('checks lengths', () => {
    expect(() => embeddingScatterFigure(points, [0])).toThrow(/group ids/);
  });
});
