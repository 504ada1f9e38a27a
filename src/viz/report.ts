/**
 * `writeReport(runDir)`: one standalone `report.html` for a run directory (`carp report
 * RUN_DIR`), readable offline in any browser — the plotly.js bundle is inlined (≈10 MB),
 * no CDN. Built from whatever the run holds:
 *  - `run.json` → run facts table; `config.json` → collapsible JSON;
 *  - `metrics.jsonl` → loss curves (total/consistency/entropy), schedules;
 *  - TensorBoard event files (in the run directory, or folders given as `tensorboard`,
 *    e.g. the official trainer's runs/…) → their loss, schedule and accuracy curves;
 *  - `eval/*.json` → results table (every numeric field), plus figures for fields
 *    with these shapes: k-NN results keyed by k (`{ "20": { top1, top5 } }`, at the
 *    top level or under `results`/`knn`), `confusion` (counts, number[][], with
 *    optional `classNames`), `precisionRecall` (`{ precision[], recall[],
 *    averagePrecision }`), `prototypeCounts` (number[]).
 * Missing pieces are listed at the top instead of failing. The file is written
 * atomically (temp + rename), so a browser or CI never sees half a report.
 *
 * The page sets `data-plots="ready"` (or `"error"`, with `data-plot-errors`) on
 * <body> once every Plotly.newPlot settled; the browser test waits for it.
 */
import { rename, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { confusionMatrixFigure } from './confusionMatrix';
import type { PlotlyFigure } from './figure';
import { escapeHtml, figureDivHtml, plotlyScriptTag } from './html';
import { knnCurveFigure, type KnnByK } from './knnCurve';
import { precisionRecallFigure } from './precisionRecall';
import { prototypeUsageFigure } from './prototypeUsage';
import { resultRowsFromJson, resultsTableFigure } from './resultsTable';
import { readRunDir, type RunDirContents, type TensorBoardCurves } from './runDir';
import {
  hasAnySeries,
  LOSS_SERIES,
  lossCurvesFigure,
  SCHEDULE_SERIES,
  scheduleFigure,
  type SeriesSpec,
} from './trainingCurves';

/** Options of `writeReport`. */
export interface ReportOptions {
  /** Output path (default `<runDir>/report.html`). */
  out?: string;
  /** Report title (default: the run directory's name). */
  title?: string;
  /** Folders of TensorBoard event files to draw beside the run (see ReadRunDirOptions). */
  tensorboard?: string[];
}

/** What `writeReport` wrote. */
export interface ReportResult {
  path: string;
  /** Number of plotly figures in the page. */
  figures: number;
  /** Missing or unreadable pieces of the run directory. */
  problems: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isNumberArray = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number');

/** k-NN results keyed by k, if `v` (or its `results`/`knn` field) looks like them. */
export function findKnnResults(v: unknown): KnnByK | undefined {
  const candidates = isObject(v) ? [v, v.results, v.knn] : [];
  for (const c of candidates) {
    if (!isObject(c)) continue;
    const keys = Object.keys(c);
    if (
      keys.length > 0 &&
      keys.every(
        (k) => /^\d+$/.test(k) && isObject(c[k]) && typeof (c[k] as Json).top1 === 'number',
      )
    ) {
      return c as unknown as KnnByK;
    }
  }
  return undefined;
}

/** The figures of one eval file (see the module comment for the recognised shapes). */
function evalFigures(name: string, json: unknown): PlotlyFigure[] {
  const figs: PlotlyFigure[] = [];
  if (!isObject(json)) return figs;
  const knn = findKnnResults(json);
  if (knn)
    figs.push(
      knnCurveFigure([{ name, results: knn }], { title: `${name}: weighted k-NN accuracy` }),
    );
  const conf = json.confusion;
  if (
    Array.isArray(conf) &&
    conf.length > 0 &&
    conf.every((r) => isNumberArray(r) && r.length === conf.length)
  ) {
    const names = Array.isArray(json.classNames) ? json.classNames.map(String) : undefined;
    figs.push(
      confusionMatrixFigure((conf as number[][]).flat(), conf.length, {
        title: `${name}: confusion matrix`,
        classNames: names,
      }),
    );
  }
  const pr = json.precisionRecall;
  if (isObject(pr) && isNumberArray(pr.precision) && isNumberArray(pr.recall)) {
    const ap = typeof pr.averagePrecision === 'number' ? pr.averagePrecision : NaN;
    figs.push(
      precisionRecallFigure(
        [
          {
            name,
            curve: {
              precision: pr.precision,
              recall: pr.recall,
              thresholds: [],
              averagePrecision: ap,
            },
          },
        ],
        {
          title: `${name}: precision–recall`,
        },
      ),
    );
  }
  if (isNumberArray(json.prototypeCounts)) {
    figs.push(prototypeUsageFigure(json.prototypeCounts, { title: `${name}: prototype usage` }));
  }
  return figs;
}

/** The official trainer's pseudo-label accuracy tags (percent). */
export const ACCURACY_SERIES: SeriesSpec[] = [
  { name: 'top-1', keys: ['acc/top1'] },
  { name: 'top-5', keys: ['acc/top5'] },
];

/** Figures of one TensorBoard run (loss, schedules, accuracy), titled by its folder. */
function tensorBoardFigures(tb: TensorBoardCurves): PlotlyFigure[] {
  const figs: PlotlyFigure[] = [];
  const title = (what: string) => `TensorBoard ${tb.name}: ${what}`;
  if (hasAnySeries(tb.rows, LOSS_SERIES))
    figs.push(lossCurvesFigure(tb.rows, { title: title('loss') }));
  if (hasAnySeries(tb.rows, SCHEDULE_SERIES))
    figs.push(scheduleFigure(tb.rows, { title: title('schedules') }));
  if (hasAnySeries(tb.rows, ACCURACY_SERIES)) {
    const acc = lossCurvesFigure(tb.rows, {
      title: title('pseudo-label accuracy'),
      series: ACCURACY_SERIES,
    });
    acc.layout.yaxis = { title: { text: '%' } };
    figs.push(acc);
  }
  return figs;
}

/** The figures of a run, in page order: its curves, TensorBoard runs' curves, results. */
export function reportFigures(record: RunDirContents): PlotlyFigure[] {
  const figs: PlotlyFigure[] = [];
  if (hasAnySeries(record.metrics, LOSS_SERIES)) figs.push(lossCurvesFigure(record.metrics));
  if (hasAnySeries(record.metrics, SCHEDULE_SERIES)) figs.push(scheduleFigure(record.metrics));
  for (const tb of record.tensorboard) figs.push(...tensorBoardFigures(tb));
  const rows = record.evals.flatMap((e) => resultRowsFromJson(e.name, e.json));
  if (rows.length > 0) figs.push(resultsTableFigure(rows));
  for (const e of record.evals) figs.push(...evalFigures(e.name, e.json));
  return figs;
}

function runFactsHtml(run: Json | undefined): string {
  if (!run) return '';
  const rows: string[] = [];
  const add = (key: string, value: unknown): void => {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) add(`${key}.${k}`, v);
    else
      rows.push(
        `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(typeof value === 'string' ? value : JSON.stringify(value))}</td></tr>`,
      );
  };
  for (const [k, v] of Object.entries(run)) add(k, v);
  return `<h2>Run</h2>\n<table class="facts">${rows.join('\n')}</table>`;
}

/** The report page as a string and its figure count (`writeReport` writes it). */
export function reportHtml(
  record: RunDirContents,
  title: string,
): { html: string; figures: number } {
  const figs = reportFigures(record);
  // Each newPlot promise reports to carpDrawn; <body data-plots> is the "done" marker.
  const prelude = `<script type="text/javascript">
window.carpReport = { expected: ${figs.length}, drawn: 0, errors: [] };
function carpMark() {
  var r = window.carpReport, b = document.body;
  b.setAttribute('data-plots-drawn', String(r.drawn));
  if (r.errors.length) { b.setAttribute('data-plots', 'error'); b.setAttribute('data-plot-errors', r.errors.join(' | ')); }
  else if (r.drawn === r.expected) b.setAttribute('data-plots', 'ready');
}
function carpDrawn(p) {
  Promise.resolve(p).then(function () { window.carpReport.drawn++; carpMark(); },
    function (e) { window.carpReport.errors.push(String(e && e.message || e)); carpMark(); });
}
window.addEventListener('error', function (e) { window.carpReport.errors.push(String(e.message)); carpMark(); });
</script>`;
  const problems = record.problems.length
    ? `<ul class="problems">${record.problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>`
    : '';
  const figures = figs.map((f, i) => figureDivHtml(f, `fig-${i}`, 'carpDrawn(p)')).join('\n');
  const config =
    record.config === undefined
      ? ''
      : `<h2>Config</h2>\n<details><summary>config.json</summary><pre>${escapeHtml(JSON.stringify(record.config, null, 2))}</pre></details>`;
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px; padding: 0 1em; color: #222; }
table.facts { border-collapse: collapse; font-size: 0.9em; }
table.facts th, table.facts td { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
table.facts th { color: #555; font-weight: normal; }
.problems { color: #8a4b00; }
.carp-figure { margin: 1em 0; }
pre { background: #f6f8fa; padding: 1em; overflow: auto; }
</style>
${plotlyScriptTag()}
${prelude}
</head>
<body data-plots="${figs.length === 0 ? 'ready' : 'pending'}">
<h1>${escapeHtml(title)}</h1>
<p>carp-kit run report · ${escapeHtml(record.dir)} · ${record.metrics.length} logged steps · ${record.evals.length} evaluation(s)</p>
${problems}
${runFactsHtml(record.run)}
<h2>Figures</h2>
${figs.length ? figures : '<p>No figures: the run has no metrics or evaluations yet.</p>'}
${config}
<script type="text/javascript">carpMark();</script>
</body>
</html>
`;
  return { html, figures: figs.length };
}

/** Builds `report.html` for `runDir` (see the module comment) and writes it atomically. */
export async function writeReport(runDir: string, o: ReportOptions = {}): Promise<ReportResult> {
  const dir = resolve(runDir);
  const record = await readRunDir(dir, { tensorboard: o.tensorboard });
  const path = o.out ?? join(dir, 'report.html');
  const { html, figures } = reportHtml(record, o.title ?? `CARP run ${basename(dir)}`);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, html);
  await rename(tmp, path);
  return { path, figures, problems: record.problems };
}
