/**
 * Figures, notebook display and run reports (architecture §2.2 `viz/`), re-exported by
 * `src/index.ts`. Figure builders return plain plotly `{ data, layout }` objects;
 * `showFigure`/`LiveFigure` draw them in a tslab notebook, `writeReport` in a
 * standalone HTML file.
 */
export { PALETTE, categoryColor } from './figure';
export type { PlotlyFigure, PlotlyLayout, PlotlyTrace, FigureOptions } from './figure';
export {
  lossCurvesFigure,
  scheduleFigure,
  metricSeries,
  LOSS_SERIES,
  SCHEDULE_SERIES,
} from './trainingCurves';
export type { MetricsRow, SeriesSpec, LossCurvesOptions } from './trainingCurves';
export { prototypeUsageFigure, prototypesByUse } from './prototypeUsage';
export type { PrototypeUsageOptions } from './prototypeUsage';
export { encodePng, pngDataUri } from './png';
export { imageGridFigure, tileImages } from './imageGrid';
export type { ImageGridOptions, Mosaic } from './imageGrid';
export { umapEmbedding, embeddingScatterFigure } from './embeddingScatter';
export type { UmapOptions, EmbeddingScatterOptions } from './embeddingScatter';
export { confusionCounts, confusionMatrixFigure } from './confusionMatrix';
export type { ConfusionMatrixOptions } from './confusionMatrix';
export { knnCurveFigure, knnPoints } from './knnCurve';
export type { KnnByK, KnnSeries, KnnCurveOptions } from './knnCurve';
export { precisionRecallCurve, precisionRecallFigure } from './precisionRecall';
export type { PrCurve, NamedPrCurve } from './precisionRecall';
export { resultsTableFigure, resultRowsFromJson } from './resultsTable';
export type { ResultRow } from './resultsTable';
export {
  showFigure,
  showTable,
  showText,
  showProgressInNotebook,
  notebookProgressStream,
  progressHtml,
  loadPlotly,
  LiveFigure,
  LiveTrainingCurves,
} from './display';
export { tableHtml } from './htmlTable';
export type { TableCell, TableOptions } from './htmlTable';
export type { DisplayHost, HtmlSink, ShowOptions, LiveFigureOptions } from './display';
export { readRunDir, parseMetricsJsonl } from './runDir';
export type { RunDirContents, EvalFile, TensorBoardCurves, ReadRunDirOptions } from './runDir';
export { writeReport, reportHtml } from './report';
export type { ReportOptions, ReportResult } from './report';
// Notebook-only display helpers (galleries, small tables and charts).
export {
  pickImages,
  viewToUint8,
  imageRowsFigure,
  multiCropGridFigure,
  partitionFigure,
  prototypeGalleryFigure,
  retrievalGalleryFigure,
  neighboursGalleryFigure,
  copyEditsGalleryFigure,
} from './notebookImages';
export type { ImageBatchU8, ImageHolder, ImageRow } from './notebookImages';
export {
  tableFigure,
  configRows,
  metricBarsFigure,
  lowShotFigure,
  blockMapFigure,
  headlineRows,
  linearHistoryFigure,
  linesFigure,
} from './notebookCharts';
export type { HeadlineRow, LineSeries } from './notebookCharts';
