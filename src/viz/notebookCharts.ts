/**
 * Small tables and charts for the notebooks (display only): plain tables, a config
 * flattened to rows, grouped metric bars, few-shot mAP vs shots, copy-detection mAP per
 * block, and the headline number of each protocol's result for summary tables.
 */
import type { EvalResult } from '../eval/results';
import {
  baseLayout,
  categoryColor,
  type FigureOptions,
  type PlotlyFigure,
  type PlotlyTrace,
} from './figure';

/** A table figure: header + rows of cells (numbers shown as given). */
export function tableFigure(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  o: FigureOptions & { columnWidths?: number[] } = {},
): PlotlyFigure {
  const columns = header.map((_, j) => rows.map((r) => String(r[j] ?? '')));
  const trace = {
    type: 'table',
    columnwidth: o.columnWidths,
    header: {
      values: header.map((h) => `<b>${h}</b>`),
      align: 'left',
      fill: { color: '#e8eef7' },
    },
    cells: { values: columns, align: 'left', height: 24 },
  };
  // Rows whose text wraps are taller: estimate lines per row from ~7 px per character
  // of a 900 px wide table split by the column widths.
  const widths = o.columnWidths ?? header.map(() => 1);
  const total = widths.reduce((a, b) => a + b, 0);
  const lines = [header, ...rows].map((r) =>
    Math.max(
      1,
      ...r.map((cell, j) =>
        Math.ceil(
          String(cell ?? '').length / Math.max(4, ((900 * (widths[j] ?? 1)) / total - 16) / 7),
        ),
      ),
    ),
  );
  const layout = baseLayout('', {
    ...o,
    height: o.height ?? Math.min(900, 80 + lines.reduce((a, n) => a + 10 + 16 * n, 0)),
  });
  layout.margin = { l: 10, r: 10, t: o.title ? 50 : 10, b: 10 };
  return { data: [trace], layout };
}

/** `{ a: { b: 1 } }` → `[['a.b', 1]]`; arrays stay one value. */
function flatten(v: unknown, prefix: string, out: Map<string, unknown>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      flatten(x, prefix ? `${prefix}.${k}` : k, out);
    }
  } else {
    out.set(prefix, v);
  }
}

const show = (v: unknown): string =>
  v === undefined ? '' : Array.isArray(v) ? `[${v.join(', ')}]` : String(v);

/**
 * A config (or any nested object) as `[key, value]` rows; with `other`, a third column
 * holds its value and a fourth marks keys that differ. `sections` keeps only keys
 * under those top-level sections.
 */
export function configRows(
  config: object,
  other?: object,
  o: { sections?: readonly string[] } = {},
): string[][] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(config, '', a);
  if (other) flatten(other, '', b);
  const keep = (k: string) => !o.sections || o.sections.includes(k.split('.')[0]);
  return [...a.keys()].filter(keep).map((k) => {
    const va = show(a.get(k));
    if (!other) return [k, va];
    const vb = show(b.get(k));
    return [k, va, vb, va === vb ? '' : '≠'];
  });
}

/**
 * Grouped bars: one group per metric, one bar per series (e.g. k-means vs prototypes).
 * Values are fractions and shown as percentages.
 */
export function metricBarsFigure(
  series: readonly { name: string; values: Record<string, number> }[],
  o: FigureOptions & { metrics?: readonly string[] } = {},
): PlotlyFigure {
  const metrics = o.metrics ?? [...new Set(series.flatMap((s) => Object.keys(s.values)))];
  const data: PlotlyTrace[] = series.map((s, i) => ({
    type: 'bar',
    name: s.name,
    x: [...metrics],
    y: metrics.map((m) => (typeof s.values[m] === 'number' ? s.values[m] : null)),
    marker: { color: categoryColor(i) },
    hovertemplate: '%{x}: %{y:.1%}<extra>' + s.name + '</extra>',
  }));
  const layout = baseLayout('Metrics', o);
  layout.barmode = 'group';
  layout.yaxis = { tickformat: '.0%', rangemode: 'tozero' };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}

/** Few-shot mAP (fractions) vs shots per class, mean ± std over runs, one line per series. */
export function lowShotFigure(
  series:
    | Record<string, { mAP: number; std: number }>
    | readonly { name: string; lowShot: Record<string, { mAP: number; std: number }> }[],
  o: FigureOptions = {},
): PlotlyFigure {
  const list = Array.isArray(series)
    ? (series as { name: string; lowShot: Record<string, { mAP: number; std: number }> }[])
    : [{ name: 'mAP', lowShot: series as Record<string, { mAP: number; std: number }> }];
  const data: PlotlyTrace[] = list.map((s, i) => {
    const ks = Object.keys(s.lowShot)
      .map(Number)
      .sort((a, b) => a - b);
    return {
      type: 'scatter',
      mode: 'lines+markers',
      name: s.name,
      x: ks,
      y: ks.map((k) => s.lowShot[String(k)].mAP),
      error_y: { type: 'data', array: ks.map((k) => s.lowShot[String(k)].std), visible: true },
      line: { color: categoryColor(i) },
    };
  });
  const allK = [...new Set(list.flatMap((s) => Object.keys(s.lowShot).map(Number)))].sort(
    (a, b) => a - b,
  );
  const layout = baseLayout('Few-shot linear SVMs: mAP vs examples per class', o);
  layout.xaxis = { title: { text: 'examples per class (k)' }, type: 'log', tickvals: allK };
  layout.yaxis = { title: { text: 'mAP' }, tickformat: '.0%', rangemode: 'tozero' };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}

/** Copy-detection mAP per query block (fractions), without and with whitening. */
export function blockMapFigure(
  plain: Record<string, number>,
  whitened: Record<string, number> | null,
  o: FigureOptions = {},
): PlotlyFigure {
  const blocks = Object.keys(plain);
  const data: PlotlyTrace[] = [
    { type: 'bar', name: 'no whitening', x: blocks, y: blocks.map((b) => plain[b]) },
  ];
  if (whitened) {
    data.push({ type: 'bar', name: 'whitened', x: blocks, y: blocks.map((b) => whitened[b]) });
  }
  data.forEach((t, i) => (t.marker = { color: categoryColor(i) }));
  const layout = baseLayout('Copy detection: mAP per query block', o);
  layout.barmode = 'group';
  layout.xaxis = { tickangle: -45 };
  layout.yaxis = { title: { text: 'mAP' }, tickformat: '.0%', range: [0, 1.02] };
  layout.legend = {
    x: 1,
    xanchor: 'right',
    y: 1,
    yanchor: 'top',
    bgcolor: 'rgba(255,255,255,0.8)',
  };
  return { data, layout };
}

/** One headline number of a result; rows fit `resultsTableFigure` as they are. */
export interface HeadlineRow {
  protocol: string;
  dataset: string;
  metric: string;
  value: number;
  /** Fractions are shown as percentages, counts as numbers. */
  format: 'percent' | 'number';
}

/**
 * The numbers a paper table would quote from each result: k-NN top-1 per k, linear
 * top-1/top-5, clustering NMI/AMI/ARI/accuracy, prototype usage, few-shot mAP per k,
 * retrieval Medium/Hard mAP, copy-detection `strong` mAP (plain and whitened).
 */
export function headlineRows(results: readonly EvalResult[]): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  for (const r of results) {
    const m = r.metrics as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const add = (metric: string, value: unknown, format: HeadlineRow['format'] = 'percent') => {
      if (typeof value === 'number') {
        rows.push({ protocol: r.protocol, dataset: r.dataset, metric, value, format });
      }
    };
    switch (r.protocol) {
      case 'knn':
        for (const k of Object.keys(m)) add(`top-1 (k=${k})`, m[k]?.top1);
        break;
      case 'linear':
        add('top-1', m.top1);
        add('top-5', m.top5);
        break;
      case 'kmeans':
      case 'prototypes':
        for (const k of ['nmi', 'ami', 'ari', 'accuracy']) add(k.toUpperCase(), m[k]);
        if (m.usage) add('prototypes used', m.usage.used, 'number');
        break;
      case 'fewshot':
        for (const k of Object.keys(m.lowShot ?? {})) add(`mAP (k=${k})`, m.lowShot[k].mAP);
        break;
      case 'retrieval':
        add('mAP medium', m.medium?.mAP);
        add('mAP hard', m.hard?.mAP);
        break;
      case 'copydetection':
        add('mAP strong', m.plain?.strong);
        add('mAP strong, whitened', m.whitened?.strong);
        break;
      default:
        break;
    }
  }
  return rows;
}

/** Validation top-1 per epoch of linear probes (`runLinear`'s `metrics.history`), one line each. */
export function linearHistoryFigure(
  series: readonly { name: string; history: readonly { epoch: number; top1: number }[] }[],
  o: FigureOptions = {},
): PlotlyFigure {
  const data: PlotlyTrace[] = series.map((s, i) => ({
    type: 'scatter',
    mode: s.history.length > 1 ? 'lines' : 'markers',
    name: s.name,
    x: s.history.map((h) => h.epoch),
    y: s.history.map((h) => h.top1),
    line: { color: categoryColor(i) },
  }));
  const layout = baseLayout('Linear probe: validation top-1 per epoch', o);
  layout.xaxis = { title: { text: 'epoch' } };
  layout.yaxis = { title: { text: 'top-1' }, tickformat: '.0%', rangemode: 'tozero' };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}

/** One line of `linesFigure`. */
export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** plotly dash style, e.g. 'dot' for a reference line. */
  dash?: string;
}

/** Lines of y against x with named axes (loss terms vs sharpness, k-NN vs an ablated value). */
export function linesFigure(
  series: readonly LineSeries[],
  o: FigureOptions & { xTitle?: string; yTitle?: string; xLog?: boolean } = {},
): PlotlyFigure {
  const data: PlotlyTrace[] = series.map((s, i) => ({
    type: 'scatter',
    mode: 'lines+markers',
    name: s.name,
    x: [...s.x],
    y: [...s.y],
    line: { color: categoryColor(i), ...(s.dash ? { dash: s.dash } : {}) },
  }));
  const layout = baseLayout('', o);
  layout.xaxis = { title: { text: o.xTitle ?? '' }, ...(o.xLog ? { type: 'log' } : {}) };
  layout.yaxis = { title: { text: o.yTitle ?? '' } };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}
