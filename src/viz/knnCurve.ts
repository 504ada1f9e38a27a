/**
 * Weighted k-NN accuracy vs k (the paper's k-NN protocol, §6; DINO's weighted
 * vote with temperature 0.07): one line per series for top-1 (solid) and top-5
 * (dotted). Accepts `weightedKnn`'s result as is (fractions keyed by k).
 */
import {
  baseLayout,
  categoryColor,
  type FigureOptions,
  type PlotlyFigure,
  type PlotlyTrace,
} from './figure';

/** Accuracies per k, as returned by `weightedKnn` (extra fields are ignored). */
export type KnnByK = Record<number, { top1: number; top5?: number }>;

/** A named series (e.g. one checkpoint or one dataset). */
export interface KnnSeries {
  name: string;
  results: KnnByK;
}

/** Options of `knnCurveFigure`. */
export interface KnnCurveOptions extends FigureOptions {
  /** Draw top-5 too when present (default true). */
  top5?: boolean;
  /** Log-scale k axis (default: when max k / min k ≥ 20). */
  logK?: boolean;
}

/** Sorted `[k, top1, top5]` points of one result. */
export function knnPoints(results: KnnByK): {
  k: number[];
  top1: number[];
  top5: (number | null)[];
} {
  const ks = Object.keys(results)
    .map(Number)
    .filter((k) => Number.isFinite(k))
    .sort((a, b) => a - b);
  return {
    k: ks,
    top1: ks.map((k) => results[k].top1),
    top5: ks.map((k) => results[k].top5 ?? null),
  };
}

/** Accuracy vs k for one result or several named ones. */
export function knnCurveFigure(
  results: KnnByK | KnnSeries[],
  o: KnnCurveOptions = {},
): PlotlyFigure {
  const series: KnnSeries[] = Array.isArray(results) ? results : [{ name: 'k-NN', results }];
  const data: PlotlyTrace[] = [];
  let kMin = Infinity;
  let kMax = -Infinity;
  const allK = new Set<number>();
  series.forEach((s, i) => {
    const p = knnPoints(s.results);
    if (p.k.length === 0) return;
    kMin = Math.min(kMin, p.k[0]);
    kMax = Math.max(kMax, p.k[p.k.length - 1]);
    p.k.forEach((k) => allK.add(k));
    const color = categoryColor(i);
    data.push({
      type: 'scatter',
      mode: 'lines+markers',
      name: `${s.name} top-1`,
      x: p.k,
      y: p.top1,
      line: { color },
    });
    if ((o.top5 ?? true) && p.top5.some((v) => v !== null)) {
      data.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${s.name} top-5`,
        x: p.k,
        y: p.top5,
        line: { color, dash: 'dot' },
      });
    }
  });
  const logK = o.logK ?? (kMin > 0 && kMax / kMin >= 20);
  const layout = baseLayout('Weighted k-NN accuracy', o);
  // Ticks at the evaluated k only: plotly's log-axis minor labels (2, 3, … 9) read as k values.
  layout.xaxis = {
    title: { text: 'k (neighbours)' },
    type: logK ? 'log' : 'linear',
    tickvals: [...allK].sort((a, b) => a - b),
  };
  layout.yaxis = { title: { text: 'accuracy' }, tickformat: '.0%' };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}
