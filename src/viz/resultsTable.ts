/**
 * Per-protocol results as a table figure (and rows built from the `eval/*.json`
 * files of a run directory), with the paper's number and the difference when known.
 * The paper reports percentages; our results are fractions (architecture §3.1), so
 * fractions are shown as percentages.
 */
import { baseLayout, type FigureOptions, type PlotlyFigure } from './figure';

/** One result: a metric of a protocol (on a dataset). */
export interface ResultRow {
  protocol: string;
  dataset?: string;
  metric: string;
  value: number;
  /** The paper's value in the same unit as `value`. */
  paper?: number;
  /** 'percent' shows 100·value; default: percent when 0 ≤ value ≤ 1. */
  format?: 'percent' | 'number';
}

function formatValue(v: number | undefined, asPercent: boolean): string {
  if (v === undefined || !Number.isFinite(v)) return '';
  if (asPercent) return (100 * v).toFixed(2);
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

/** Table of results (columns: protocol, dataset, metric, ours, paper, Δ). */
export function resultsTableFigure(
  rows: readonly ResultRow[],
  o: FigureOptions = {},
): PlotlyFigure {
  const cols: string[][] = [[], [], [], [], [], []];
  for (const r of rows) {
    const pct = r.format ? r.format === 'percent' : r.value >= 0 && r.value <= 1;
    const diff = r.paper !== undefined ? r.value - r.paper : undefined;
    cols[0].push(r.protocol);
    cols[1].push(r.dataset ?? '');
    cols[2].push(pct ? `${r.metric} (%)` : r.metric);
    cols[3].push(formatValue(r.value, pct));
    cols[4].push(formatValue(r.paper, pct));
    cols[5].push(diff === undefined ? '' : (diff >= 0 ? '+' : '') + formatValue(diff, pct));
  }
  const trace = {
    type: 'table',
    columnwidth: [2, 2, 3, 1.2, 1.2, 1.2],
    header: {
      values: ['protocol', 'dataset', 'metric', 'ours', 'paper', 'Δ'].map((h) => `<b>${h}</b>`),
      align: 'left',
      fill: { color: '#e8eef7' },
    },
    cells: { values: cols, align: ['left', 'left', 'left', 'right', 'right', 'right'], height: 24 },
  };
  const layout = baseLayout('Results', {
    ...o,
    height: o.height ?? Math.min(900, 120 + 26 * (rows.length + 1)),
  });
  layout.margin = { l: 10, r: 10, t: 50, b: 10 };
  return { data: [trace], layout };
}

/** Keys whose values are per-sample arrays or bulky detail, never table rows. */
const SKIP_KEYS = new Set([
  'predictions',
  'assignments',
  'aps',
  'ranking',
  'config',
  'timing',
  'seconds',
]);

/**
 * Flattens the numeric fields of one eval JSON (any nesting up to depth 4) into rows:
 * `{ "20": { "top1": 0.71 } }` → metric "20.top1". The protocol is the JSON's
 * `protocol` field or the file name; `dataset` comes from a `dataset` field. Arrays
 * and `SKIP_KEYS` are left out: a table of per-sample values helps nobody.
 */
export function resultRowsFromJson(name: string, json: unknown, maxRows = 40): ResultRow[] {
  const rows: ResultRow[] = [];
  const obj = json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
  const protocol = typeof obj.protocol === 'string' ? obj.protocol : name;
  const dataset = typeof obj.dataset === 'string' ? obj.dataset : undefined;
  const walk = (value: unknown, path: string[], depth: number): void => {
    if (rows.length >= maxRows) return;
    if (typeof value === 'number' && path.length > 0) {
      rows.push({ protocol, dataset, metric: path.join('.'), value });
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 4) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (!SKIP_KEYS.has(k) && !(depth === 0 && (k === 'protocol' || k === 'dataset')))
          walk(v, [...path, k], depth + 1);
      }
    }
  };
  walk(json, [], 0);
  return rows;
}
