/**
 * Prototype usage: how many samples pick each prototype as their argmax. The CARP
 * reference logs this histogram because it shows collapse early (STYLE-ANCHORS §1):
 * a healthy run spreads assignments over many prototypes; a collapsed one piles
 * them onto a few. Spec §4's entropy term exists to prevent exactly that.
 */
import { baseLayout, type FigureOptions, type PlotlyFigure } from './figure';

/** Summary of a usage histogram. */
export interface PrototypeUsageStats {
  numPrototypes: number;
  /** Samples counted. */
  total: number;
  /** Prototypes chosen at least once. */
  used: number;
  /** exp(entropy) of the usage distribution: the "effective" number of prototypes (K when uniform, 1 when collapsed). */
  perplexity: number;
  /** Share of the most used prototype (1/K when uniform, 1 when collapsed). */
  maxShare: number;
}

/** Counts argmax assignments per prototype (`assignments[i]` in [0, numPrototypes)). */
export function prototypeCounts(assignments: ArrayLike<number>, numPrototypes: number): Int32Array {
  const counts = new Int32Array(numPrototypes);
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    if (!Number.isInteger(a) || a < 0 || a >= numPrototypes) {
      throw new RangeError(
        `assignment ${a} at index ${i} is not a prototype index in [0, ${numPrototypes})`,
      );
    }
    counts[a]++;
  }
  return counts;
}

/** Usage statistics of a per-prototype count vector. */
export function prototypeUsageStats(counts: ArrayLike<number>): PrototypeUsageStats {
  let total = 0;
  let used = 0;
  let max = 0;
  for (let k = 0; k < counts.length; k++) {
    total += counts[k];
    if (counts[k] > 0) used++;
    if (counts[k] > max) max = counts[k];
  }
  let entropy = 0;
  if (total > 0) {
    for (let k = 0; k < counts.length; k++) {
      const p = counts[k] / total;
      if (p > 0) entropy -= p * Math.log(p);
    }
  }
  return {
    numPrototypes: counts.length,
    total,
    used,
    perplexity: total > 0 ? Math.exp(entropy) : 0,
    maxShare: total > 0 ? max / total : 0,
  };
}

/** Options of `prototypeUsageFigure`. */
export interface PrototypeUsageOptions extends FigureOptions {
  /**
   * Sort prototypes by count, most used first (default true): with thousands of
   * prototypes a rank plot reads better than bars in index order.
   */
  sorted?: boolean;
  /** Log-scale count axis (default false). */
  logY?: boolean;
}

/**
 * Bar chart of samples per prototype (bars up to 512 prototypes, a filled line
 * beyond, which stays light for K = 65 536) with the usage statistics in the title.
 */
export function prototypeUsageFigure(
  counts: ArrayLike<number>,
  o: PrototypeUsageOptions = {},
): PlotlyFigure {
  const stats = prototypeUsageStats(counts);
  const sorted = o.sorted ?? true;
  const values = Array.from(counts);
  const order = values.map((_, k) => k);
  if (sorted) order.sort((a, b) => values[b] - values[a] || a - b);
  const y = order.map((k) => values[k]);
  const x = sorted ? order.map((_, r) => r) : order;
  const many = values.length > 512;
  const trace = many
    ? { type: 'scatter', mode: 'lines', fill: 'tozeroy', x, y, name: 'samples', line: { width: 1 } }
    : {
        type: 'bar',
        x,
        y,
        name: 'samples',
        customdata: order,
        hovertemplate: 'prototype %{customdata}: %{y}<extra></extra>',
      };
  const summary =
    `${stats.used}/${stats.numPrototypes} used, effective ${stats.perplexity.toFixed(1)}, ` +
    `max share ${(100 * stats.maxShare).toFixed(1)}%`;
  const layout = baseLayout(`Prototype usage (${summary})`, o);
  if (o.title !== undefined) layout.title = { text: `${o.title}<br><sub>${summary}</sub>` };
  layout.xaxis = { title: { text: sorted ? 'prototype rank (most used first)' : 'prototype' } };
  layout.yaxis = { title: { text: 'samples' }, type: o.logY ? 'log' : 'linear' };
  layout.bargap = 0;
  return { data: [trace], layout };
}
