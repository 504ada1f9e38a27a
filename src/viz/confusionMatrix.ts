/**
 * Confusion matrix of a classifier's predictions (linear probe, k-NN, or clusters
 * matched to classes by the Hungarian step of clustering accuracy): rows are true
 * classes, columns predicted ones, cells the share of each true class (row-normalised)
 * so small and large classes read alike; hover shows the raw counts.
 */
import { baseLayout, type FigureOptions, type PlotlyFigure } from './figure';

/** Counts `[numClasses, numClasses]` (row = true label, column = prediction), row-major. */
export function confusionCounts(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  numClasses: number,
): Int32Array {
  if (labels.length !== predictions.length) {
    throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
  }
  const counts = new Int32Array(numClasses * numClasses);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    const p = predictions[i];
    if (!(
      t >= 0 &&
      t < numClasses &&
      p >= 0 &&
      p < numClasses &&
      Number.isInteger(t) &&
      Number.isInteger(p)
    )) {
      throw new RangeError(`label ${t} / prediction ${p} at index ${i} outside [0, ${numClasses})`);
    }
    counts[t * numClasses + p]++;
  }
  return counts;
}

/** Options of `confusionMatrixFigure`. */
export interface ConfusionMatrixOptions extends FigureOptions {
  /** Class names (default "0", "1", ...). */
  classNames?: string[];
  /** Write the percentage in each cell (default: when ≤ 20 classes). */
  showValues?: boolean;
}

/** Heatmap of a confusion matrix given as counts (see `confusionCounts`). */
export function confusionMatrixFigure(
  counts: ArrayLike<number>,
  numClasses: number,
  o: ConfusionMatrixOptions = {},
): PlotlyFigure {
  if (counts.length !== numClasses * numClasses) {
    throw new RangeError(
      `${counts.length} counts do not form a ${numClasses}×${numClasses} matrix`,
    );
  }
  const names = o.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k));
  const z: number[][] = [];
  const raw: number[][] = [];
  let correct = 0;
  let total = 0;
  for (let t = 0; t < numClasses; t++) {
    const row = Array.from({ length: numClasses }, (_, p) => counts[t * numClasses + p]);
    const sum = row.reduce((a, b) => a + b, 0);
    raw.push(row);
    z.push(row.map((c) => (sum > 0 ? c / sum : 0)));
    correct += row[t];
    total += sum;
  }
  const showValues = o.showValues ?? numClasses <= 20;
  const trace = {
    type: 'heatmap',
    x: names,
    y: names,
    z,
    customdata: raw,
    zmin: 0,
    zmax: 1,
    colorscale: 'Blues',
    reversescale: true, // plotly.js's Blues runs dark → light; high shares should be dark
    hovertemplate: 'true %{y}, predicted %{x}: %{customdata} (%{z:.1%})<extra></extra>',
    ...(showValues ? { texttemplate: '%{z:.0%}', textfont: { size: 10 } } : {}),
  };
  const accuracy = total > 0 ? correct / total : 0;
  const layout = baseLayout(`Confusion matrix (accuracy ${(100 * accuracy).toFixed(1)}%)`, {
    ...o,
    height: o.height ?? Math.min(900, Math.max(420, 160 + 36 * numClasses)),
  });
  layout.xaxis = { title: { text: 'predicted' }, type: 'category', constrain: 'domain' };
  layout.yaxis = {
    title: { text: 'true' },
    type: 'category',
    autorange: 'reversed',
    scaleanchor: 'x',
  };
  return { data: [trace], layout };
}
