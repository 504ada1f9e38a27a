/**
 * Precision–recall curves for retrieval and copy detection (§6: VOC-style AP on
 * Copydays, mAP on revisited Oxford/Paris). The curve is computed from per-item
 * scores and binary relevance; tied scores form one operating point, as in
 * scikit-learn's `precision_recall_curve`, so the curve does not depend on how ties
 * happen to be ordered.
 */
import {
  baseLayout,
  categoryColor,
  type FigureOptions,
  type PlotlyFigure,
  type PlotlyTrace,
} from './figure';

/** Operating points by decreasing threshold, plus the non-interpolated AP. */
export interface PrCurve {
  precision: number[];
  recall: number[];
  thresholds: number[];
  /** Σ over operating points of (Δrecall × precision): non-interpolated AP. */
  averagePrecision: number;
}

/** Precision/recall at each distinct score (`labels[i]` > 0 = relevant). */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): PrCurve {
  if (scores.length !== labels.length) {
    throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[b] - scores[a] || a - b,
  );
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > 0) positives++;
  const curve: PrCurve = { precision: [], recall: [], thresholds: [], averagePrecision: 0 };
  if (positives === 0) return curve;
  let tp = 0;
  let lastRecall = 0;
  for (let r = 0; r < order.length; r++) {
    if (labels[order[r]] > 0) tp++;
    const next = order[r + 1];
    if (next !== undefined && scores[next] === scores[order[r]]) continue; // inside a tie group
    const precision = tp / (r + 1);
    const recall = tp / positives;
    curve.precision.push(precision);
    curve.recall.push(recall);
    curve.thresholds.push(scores[order[r]]);
    curve.averagePrecision += (recall - lastRecall) * precision;
    lastRecall = recall;
  }
  return curve;
}

/** A named curve. */
export interface NamedPrCurve {
  name: string;
  curve: PrCurve;
}

/** Precision vs recall for one or several curves; AP in each legend entry. */
export function precisionRecallFigure(
  curves: PrCurve | NamedPrCurve[],
  o: FigureOptions = {},
): PlotlyFigure {
  const list: NamedPrCurve[] = Array.isArray(curves)
    ? curves
    : [{ name: 'retrieval', curve: curves }];
  const data: PlotlyTrace[] = list.map(({ name, curve }, i) => ({
    type: 'scatter',
    mode: 'lines',
    name: `${name} (AP ${(100 * curve.averagePrecision).toFixed(1)})`,
    // Start at recall 0 with the first precision so the curve begins at the y axis.
    x: [0, ...curve.recall],
    y: [curve.precision[0] ?? 1, ...curve.precision],
    line: { shape: 'vh', color: categoryColor(i) }, // precision p_i over (r_{i-1}, r_i], as AP sums it
  }));
  const layout = baseLayout('Precision–recall', o);
  layout.xaxis = { title: { text: 'recall' }, range: [0, 1.02] };
  layout.yaxis = { title: { text: 'precision' }, range: [0, 1.02] };
  layout.legend = { orientation: 'h', y: -0.2 };
  return { data, layout };
}
