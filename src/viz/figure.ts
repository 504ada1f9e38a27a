/**
 * Plotly figures as plain data (architecture §2.2 `viz/`): every builder in `src/viz/`
 * returns a `PlotlyFigure` — JSON-serialisable `{ data, layout }` that plotly.js
 * draws with `Plotly.newPlot(div, data, layout)`. No DOM and no plotly import here,
 * so builders run (and are tested) in plain Node; rendering lives in `display.ts`
 * (notebooks) and `report.ts` (standalone HTML).
 */

/** One plotly trace. The common fields are named; any other plotly attribute is allowed. */
export interface PlotlyTrace {
  /** Trace type: 'scatter', 'bar', 'heatmap', 'image', 'table', ... */
  type: string;
  name?: string;
  x?: ArrayLike<number | string>;
  y?: ArrayLike<number | string | null>;
  mode?: string;
  [attribute: string]: unknown;
}

/** Plotly layout; titles use the object form `{ text }`. */
export interface PlotlyLayout {
  title?: { text: string; [attribute: string]: unknown };
  [attribute: string]: unknown;
}

/** A figure ready for `Plotly.newPlot`; `config` holds plot-level options (modebar, ...). */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
  config?: Record<string, unknown>;
}

/**
 * Categorical colours (plotly's default "D3" cycle, then "Light24"-like extras) so
 * that class k gets the same colour in every figure of a notebook or report.
 */
export const PALETTE: readonly string[] = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#fd3216',
  '#00fe35',
  '#6a76fc',
  '#fed4c4',
  '#fe00ce',
  '#0df9ff',
  '#f6f926',
  '#ff9616',
  '#479b55',
  '#eea6fb',
];

/** Colour of category `k` (cycles through `PALETTE`). */
export function categoryColor(k: number): string {
  const n = PALETTE.length;
  return PALETTE[((k % n) + n) % n];
}

/** Options every builder accepts. */
export interface FigureOptions {
  /** Figure title (each builder has a default). */
  title?: string;
  /** Pixel height; width follows the container unless given. */
  height?: number;
  width?: number;
}

/**
 * The layout shared by all builders: compact margins, title as object. (plotly.js,
 * unlike plotly.py, takes no template names, so the look is plotly.js's default.)
 */
export function baseLayout(title: string, o: FigureOptions = {}): PlotlyLayout {
  const layout: PlotlyLayout = {
    title: { text: o.title ?? title },
    margin: { l: 60, r: 30, t: 50, b: 50 },
    height: o.height ?? 400,
  };
  if (o.width !== undefined) layout.width = o.width;
  return layout;
}

/** Copies an array-like of numbers into a plain array (plotly serialises plain arrays best). */
export function toArray(values: ArrayLike<number>): number[] {
  return Array.from(values);
}
