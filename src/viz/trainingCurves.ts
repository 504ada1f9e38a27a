/**
 * Training curves from the run's `metrics.jsonl` rows (architecture §3.4): the loss and
 * its two CARP terms (§4: consistency + entropy; logged separately as the
 * reference trainer does) and the schedules handed to each step
 * (learning rate, weight decay, teacher EMA momentum; §5).
 *
 * Rows are plain objects; each series is looked up under a few names so that the
 * figures accept both the trainer's flat keys and the reference's `loss/…` keys.
 */
import {
  baseLayout,
  categoryColor,
  type FigureOptions,
  type PlotlyFigure,
  type PlotlyTrace,
} from './figure';

/** One logged step as read from `metrics.jsonl`. Non-numeric fields are ignored. */
export type MetricsRow = Record<string, unknown>;

/** A named series and the row keys it may be logged under (first match wins). */
export interface SeriesSpec {
  name: string;
  keys: string[];
}

/** The loss terms, in drawing order. */
export const LOSS_SERIES: SeriesSpec[] = [
  { name: 'total', keys: ['loss', 'total', 'loss/total'] },
  { name: 'consistency', keys: ['consistency', 'loss/consistency', 'lossConsistency'] },
  { name: 'entropy', keys: ['entropy', 'loss/entropy', 'lossEntropy'] },
];

/** The schedules; momentum and weight decay go on a second axis (different scale). */
export const SCHEDULE_SERIES: SeriesSpec[] = [
  { name: 'learning rate', keys: ['lr', 'learningRate', 'learning_rate'] },
  { name: 'teacher momentum', keys: ['momentum', 'teacherMomentum', 'emaMomentum', 'ema'] },
  { name: 'weight decay', keys: ['wd', 'weightDecay', 'weight_decay'] },
];

/** Keys tried for the x axis; rows without any use their index. */
export const STEP_KEYS = ['step', 'iteration', 'iter'];

function numberAt(row: MetricsRow, keys: string[]): number | undefined {
  for (const k of keys) {
    const v = row[k];
    if (typeof v === 'number') return v;
  }
  return undefined;
}

/**
 * Extracts one series: x from `STEP_KEYS` (or the row index), y from the first of
 * `keys` present. Rows lacking the series are skipped; NaN/Infinity become gaps
 * (null) so a diverged step shows as a break rather than vanishing silently.
 */
export function metricSeries(
  rows: readonly MetricsRow[],
  keys: string[],
): { x: number[]; y: (number | null)[] } {
  const x: number[] = [];
  const y: (number | null)[] = [];
  rows.forEach((row, i) => {
    const v = numberAt(row, keys);
    if (v === undefined) return;
    x.push(numberAt(row, STEP_KEYS) ?? i);
    y.push(Number.isFinite(v) ? v : null);
  });
  return { x, y };
}

function linesFor(
  rows: readonly MetricsRow[],
  specs: SeriesSpec[],
  yaxisOf: (i: number) => string,
): PlotlyTrace[] {
  const traces: PlotlyTrace[] = [];
  specs.forEach((spec, i) => {
    const { x, y } = metricSeries(rows, spec.keys);
    if (x.length === 0) return;
    traces.push({
      type: 'scatter',
      mode: x.length > 1 ? 'lines' : 'markers',
      name: spec.name,
      x,
      y,
      yaxis: yaxisOf(i),
      line: { color: categoryColor(i) },
      marker: { color: categoryColor(i) },
    });
  });
  return traces;
}

/** Options of `lossCurvesFigure`. */
export interface LossCurvesOptions extends FigureOptions {
  /** Log-scale y axis (useful over long runs). Default false. */
  logY?: boolean;
  /** Series to draw; default `LOSS_SERIES`. */
  series?: SeriesSpec[];
}

/** Loss (total, consistency, entropy) vs step. Missing series are left out. */
export function lossCurvesFigure(
  rows: readonly MetricsRow[],
  o: LossCurvesOptions = {},
): PlotlyFigure {
  const data = linesFor(rows, o.series ?? LOSS_SERIES, () => 'y');
  const layout = baseLayout('CARP loss', o);
  layout.xaxis = { title: { text: 'step' } };
  layout.yaxis = { title: { text: 'loss' }, type: o.logY ? 'log' : 'linear' };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}

/**
 * The schedules of §5 as the trainer applied them, one stacked panel each
 * (shared step axis): learning rate, teacher momentum and weight decay differ by
 * orders of magnitude, so one axis would flatten two of them.
 */
export function scheduleFigure(rows: readonly MetricsRow[], o: FigureOptions = {}): PlotlyFigure {
  const present = SCHEDULE_SERIES.filter((s) => metricSeries(rows, s.keys).x.length > 0);
  const data = linesFor(rows, present, (i) => (i === 0 ? 'y' : `y${i + 1}`));
  const layout = baseLayout('Schedules', { ...o, height: o.height ?? 160 + 140 * present.length });
  layout.grid = { rows: Math.max(1, present.length), columns: 1, pattern: 'coupled' };
  layout.xaxis = { title: { text: 'step' } };
  present.forEach((spec, i) => {
    layout[i === 0 ? 'yaxis' : `yaxis${i + 1}`] = { title: { text: spec.name } };
  });
  layout.showlegend = false;
  return { data, layout };
}

/** Whether any row carries any of the series (lets reports skip empty figures). */
export function hasAnySeries(rows: readonly MetricsRow[], specs: SeriesSpec[]): boolean {
  return rows.some((r) => specs.some((s) => numberAt(r, s.keys) !== undefined));
}
