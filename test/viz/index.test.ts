/**
 * The viz barrel (re-exported by src/index.ts): exactly these runtime names, each the
 * object of the module that defines it.
 */
import { describe, expect, it } from 'vitest';
import * as viz from '../../src/viz';
import * as confusionMatrix from '../../src/viz/confusionMatrix';
import * as display from '../../src/viz/display';
import * as embeddingScatter from '../../src/viz/embeddingScatter';
import * as figure from '../../src/viz/figure';
import * as htmlTable from '../../src/viz/htmlTable';
import * as imageGrid from '../../src/viz/imageGrid';
import * as knnCurve from '../../src/viz/knnCurve';
import * as notebookCharts from '../../src/viz/notebookCharts';
import * as notebookImages from '../../src/viz/notebookImages';
import * as png from '../../src/viz/png';
import * as precisionRecall from '../../src/viz/precisionRecall';
import * as prototypeUsage from '../../src/viz/prototypeUsage';
import * as report from '../../src/viz/report';
import * as resultsTable from '../../src/viz/resultsTable';
import * as runDir from '../../src/viz/runDir';
import * as trainingCurves from '../../src/viz/trainingCurves';

const FROM: [Record<string, unknown>, string[]][] = [
  [figure, ['PALETTE', 'categoryColor']],
  [
    trainingCurves,
    ['lossCurvesFigure', 'scheduleFigure', 'metricSeries', 'LOSS_SERIES', 'SCHEDULE_SERIES'],
  ],
  [prototypeUsage, ['prototypeUsageFigure', 'prototypesByUse']],
  [png, ['encodePng', 'pngDataUri']],
  [imageGrid, ['imageGridFigure', 'tileImages']],
  [embeddingScatter, ['umapEmbedding', 'embeddingScatterFigure']],
  [confusionMatrix, ['confusionCounts', 'confusionMatrixFigure']],
  [knnCurve, ['knnCurveFigure', 'knnPoints']],
  [precisionRecall, ['precisionRecallCurve', 'precisionRecallFigure']],
  [resultsTable, ['resultsTableFigure', 'resultRowsFromJson']],
  [
    display,
    [
      'showFigure',
      'showTable',
      'showText',
      'showProgressInNotebook',
      'notebookProgressStream',
      'progressHtml',
      'loadPlotly',
      'LiveFigure',
      'LiveTrainingCurves',
    ],
  ],
  [htmlTable, ['tableHtml']],
  [runDir, ['readRunDir', 'parseMetricsJsonl']],
  [report, ['writeReport', 'reportHtml']],
  [
    notebookImages,
    [
      'pickImages',
      'viewToUint8',
      'imageRowsFigure',
      'multiCropGridFigure',
      'partitionFigure',
      'prototypeGalleryFigure',
      'retrievalGalleryFigure',
      'neighboursGalleryFigure',
      'copyEditsGalleryFigure',
    ],
  ],
  [
    notebookCharts,
    [
      'tableFigure',
      'configRows',
      'metricBarsFigure',
      'lowShotFigure',
      'blockMapFigure',
      'headlineRows',
      'linearHistoryFigure',
      'linesFigure',
    ],
  ],
];

describe('src/viz/index.ts', () => {
  it('exports exactly the figure, display and report names, each the module’s object', () => {
    const barrel = viz as Record<string, unknown>;
    expect(Object.keys(barrel).sort()).toEqual(FROM.flatMap(([, names]) => names).sort());
    for (const [module, names] of FROM) {
      for (const n of names) expect(barrel[n], n).toBe(module[n]);
    }
  });
});
