import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/eval/results';
import {
  blockMapFigure,
  configRows,
  headlineRows,
  linearHistoryFigure,
  linesFigure,
  lowShotFigure,
  metricBarsFigure,
  tableFigure,
} from '../../src/viz/notebookCharts';

const result = (protocol: string, dataset: string, metrics: unknown): EvalResult => ({
  protocol,
  dataset,
  proxy: dataset.includes('proxy'),
  splits: {},
  settings: {},
  metrics,
  seconds: 1,
  checkpoint: 'x',
  weights: '0000000000000000',
  checkpointKeys: { missing: [], unexpected: [] },
  variant: '',
  partial: false,
  createdAt: '2024-01-01T00:00:00Z',
});

describe('notebook charts', () => {
  it('tableFigure: one column of strings per header', () => {
    const fig = tableFigure(
      ['a', 'b'],
      [
        [1, 'x'],
        [2, 'y'],
      ],
    );
    expect((fig.data[0].cells as { values: string[][] }).values).toEqual([
      ['1', '2'],
      ['x', 'y'],
    ]);
  });

  it('configRows flattens, compares and filters sections', () => {
    const a = { model: { k: 1, arr: [1, 2] }, data: { n: 3 } };
    const b = { model: { k: 2, arr: [1, 2] }, data: { n: 3 } };
    expect(configRows(a)).toEqual([
      ['model.k', '1'],
      ['model.arr', '[1, 2]'],
      ['data.n', '3'],
    ]);
    expect(configRows(a, b, { sections: ['model'] })).toEqual([
      ['model.k', '1', '2', '≠'],
      ['model.arr', '[1, 2]', '[1, 2]', ''],
    ]);
  });

  it('bars, few-shot, history and block figures carry the values', () => {
    const bars = metricBarsFigure([{ name: 's', values: { nmi: 0.5 } }], {
      metrics: ['nmi', 'ari'],
    });
    expect(bars.data[0].y).toEqual([0.5, null]);
    const shots = lowShotFigure({ '4': { mAP: 0.4, std: 0.1 }, '1': { mAP: 0.2, std: 0.05 } });
    expect(shots.data[0].x).toEqual([1, 4]);
    expect((shots.data[0].error_y as { array: number[] }).array).toEqual([0.05, 0.1]);
    const hist = linearHistoryFigure([{ name: 'a', history: [{ epoch: 0, top1: 0.3 }] }]);
    expect(hist.data[0].y).toEqual([0.3]);
    const blocks = blockMapFigure({ original: 1, strong: 0.2 }, null);
    expect(blocks.data).toHaveLength(1);
    expect(blocks.data[0].x).toEqual(['original', 'strong']);
  });

  it('headlineRows picks the quoted number of each protocol', () => {
    const rows = headlineRows([
      result('knn', 'fashion-mnist', { '20': { top1: 0.7, top5: 0.9 } }),
      result('prototypes', 'fashion-mnist', {
        nmi: 0.1,
        ami: 0.1,
        ari: 0,
        accuracy: 0.2,
        usage: { used: 12 },
      }),
      result('copydetection', 'fmnist-copydetection-proxy', {
        plain: { strong: 0.3 },
        whitened: null,
      }),
    ]);
    expect(rows.map((r) => [r.metric, r.value, r.format])).toEqual([
      ['top-1 (k=20)', 0.7, 'percent'],
      ['NMI', 0.1, 'percent'],
      ['AMI', 0.1, 'percent'],
      ['ARI', 0, 'percent'],
      ['ACCURACY', 0.2, 'percent'],
      ['prototypes used', 12, 'number'],
      ['mAP strong', 0.3, 'percent'],
    ]);
  });
});

describe('linesFigure', () => {
  it('one scatter line per series, axis titles, dashes, log x on request', () => {
    const f = linesFigure(
      [
        { name: 'L_cons', x: [0, 1], y: [1.1, 0.5] },
        { name: 'ln P', x: [0, 1], y: [1.1, 1.1], dash: 'dot' },
      ],
      { title: 'terms', xTitle: 'sharpness', yTitle: 'nats', xLog: true },
    );
    expect(f.data.map((t) => [t.type, t.mode, t.name, t.x, t.y])).toEqual([
      ['scatter', 'lines+markers', 'L_cons', [0, 1], [1.1, 0.5]],
      ['scatter', 'lines+markers', 'ln P', [0, 1], [1.1, 1.1]],
    ]);
    expect(f.data[1].line).toEqual({ color: '#ff7f0e', dash: 'dot' });
    expect(f.data[0].line).toEqual({ color: '#1f77b4' });
    expect(f.layout.title?.text).toBe('terms');
    expect(f.layout.xaxis).toEqual({ title: { text: 'sharpness' }, type: 'log' });
    expect(f.layout.yaxis).toEqual({ title: { text: 'nats' } });
  });
});
