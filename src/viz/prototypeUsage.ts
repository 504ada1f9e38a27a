/**
 * Prototype usage: how many samples pick each prototype as their argmax. The CARP
 * reference logs this histogram because it shows collapse early:
 * a healthy run spreads assignments over many prototypes; a collapsed one piles
 * them onto a few. §4's entropy term exists to prevent exactly that.
 */
import { baseLayout, type FigureOptions, type PlotlyFigure } from './figure';

/** What the figure's subtitle says about a usage histogram. */
export interface UsageSummary {
  numPrototypes: number;
  /** Samples counted. */
  total: number;
  /** Prototypes chosen at least once. */
  used: number;
  /** exp(entropy): the "effective" number of prototypes (K when uniform, 1 when collapsed). */
  perplexity: number;
  /** Share of the most used prototype (1/K when uniform, 1 when collapsed). */
  maxShare: number;
}

/**
 * Summary of per-prototype counts for the figure's subtitle. (The evaluation's own
 * statistics are `prototypeUsage` in src/eval/prototypeClusters.ts; its result can be
 * passed to `prototypeUsageFigure` directly.)
 */
export function usageSummary(counts: ArrayLike<number>): UsageSummary {
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
 * Bar chart of samples per prototype, from per-prototype counts or the `prototypeUsage`
 * result of the prototype-cluster evaluation: bars up to 512 prototypes, a filled line
 * beyond (stays light for K = 65 536); the usage summary goes in the title.
 */
export function prototypeUsageFigure(
  usage: ArrayLike<number> | { counts: ArrayLike<number> },
  o: PrototypeUsageOptions = {},
): PlotlyFigure {
  const counts = 'counts' in usage ? usage.counts : usage;
  const stats = usageSummary(counts);
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

/** Prototype ids from the most to the least used (ties: lower id first), and the unused ones. */
export function prototypesByUse(counts: ArrayLike<number>): {
  mostUsed: number[];
  unused: number[];
} {
  const ids = Array.from({ length: counts.length }, (_, k) => k);
  return {
    mostUsed: ids.filter((k) => counts[k] > 0).sort((a, b) => counts[b] - counts[a] || a - b),
    unused: ids.filter((k) => counts[k] === 0),
  };
}
