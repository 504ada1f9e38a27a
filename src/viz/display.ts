/**
 * Showing figures in a tslab notebook (architecture §7.2): `showFigure(fig)` renders
 * through `tslab.display.html`, and `LiveFigure` redraws one output in place while
 * training runs (tslab's `newDisplay()` sends Jupyter `update_display_data`, which
 * both the Notebook UI and nbclient/nbconvert apply to the same output, so an executed
 * notebook keeps the final state of a live plot).
 *
 * Offline: the plotly.js bundle is inlined once per kernel session, in its own output
 * that is never updated (a live figure's updates would otherwise erase it from the
 * saved notebook); later figures reference `window.Plotly`. If that output is cleared
 * while the kernel lives on, call `loadPlotly()` again.
 *
 * tslab is required lazily: importing carp-kit outside a kernel (CLI, tests) must not
 * load the TypeScript compiler tslab brings along.
 */
import { randomBytes } from 'node:crypto';
import type { PlotlyFigure } from './figure';
import { setInfoSink } from '../util/log';
import { setProgressStreams, type ProgressStream } from '../util/progress';
import { escapeHtml, figureDivHtml, plotlyScriptTag } from './html';
import { tableHtml, type TableCell, type TableOptions } from './htmlTable';
import { lossCurvesFigure, type LossCurvesOptions, type MetricsRow } from './trainingCurves';

/** Where HTML goes: tslab's `display` or one of its `newDisplay()` handles. */
export interface HtmlSink {
  html(s: string): void;
}

/** The two tslab entry points used here (injectable for tests). */
export interface DisplayHost {
  display: HtmlSink;
  newDisplay(): HtmlSink;
}

function tslabHost(): DisplayHost {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('tslab') as DisplayHost;
  } catch (e) {
    throw new Error(
      `showing figures needs the tslab kernel (${(e as Error).message.split('\n')[0]})`,
    );
  }
}

let plotlyShown = false;
// Div ids must be unique within the page across cells and kernel restarts: a random
// per-process prefix (ids, not experiment randomness, hence not createRng) + counter.
const session = randomBytes(4).toString('hex');
let counter = 0;

/** A fresh page-unique div id. */
export function nextFigureId(): string {
  counter += 1;
  return `carp-fig-${session}-${counter}`;
}

/** Options of `showFigure` and `loadPlotly`. */
export interface ShowOptions {
  /** Where to render (default: tslab of the running kernel). */
  host?: DisplayHost;
}

/** Inlines the plotly.js bundle into the notebook (again), as its own output. */
export function loadPlotly(o: ShowOptions = {}): void {
  (o.host ?? tslabHost()).display.html(plotlyScriptTag());
  plotlyShown = true;
}

function ensurePlotly(host: DisplayHost): void {
  if (!plotlyShown) loadPlotly({ host });
}

/** Displays a figure in the current notebook cell. */
export function showFigure(fig: PlotlyFigure, o: ShowOptions = {}): void {
  const host = o.host ?? tslabHost();
  ensurePlotly(host);
  host.display.html(figureDivHtml(fig, nextFigureId()));
}

/** Options of `LiveFigure`. */
export interface LiveFigureOptions extends ShowOptions {
  /**
   * Minimum milliseconds between redraws (default 1000): each redraw re-sends the
   * whole figure, so redrawing every step of a fast loop would flood the frontend.
   */
  throttleMs?: number;
  /** Clock (injectable for tests). */
  now?: () => number;
}

/**
 * One notebook output that is redrawn in place. Call `update(fig)` as often as you
 * like (throttled) and `flush()` at the end, which draws the last figure if a
 * throttled one is pending. No timers: a redraw after the cell finished would land
 * nowhere, so the caller's `flush()` owns the final draw.
 */
export class LiveFigure {
  private readonly handle: HtmlSink;
  private readonly throttleMs: number;
  private readonly now: () => number;
  private last = -Infinity;
  private pending: PlotlyFigure | (() => PlotlyFigure) | undefined;
  /** Redraws sent so far. */
  draws = 0;

  constructor(o: LiveFigureOptions = {}) {
    const host = o.host ?? tslabHost();
    ensurePlotly(host);
    this.handle = host.newDisplay();
    this.throttleMs = o.throttleMs ?? 1000;
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * Redraws with `fig` now, or keeps it for later when the last draw was too recent.
   * Pass a function to build the figure only when it is actually drawn.
   */
  update(fig: PlotlyFigure | (() => PlotlyFigure)): void {
    this.pending = fig;
    if (this.now() - this.last >= this.throttleMs) this.flush();
  }

  /** Draws the pending figure, if any. */
  flush(): void {
    if (!this.pending) return;
    // A new div id per draw: the frontend may still hold the old div while the new
    // output's script runs.
    const fig = typeof this.pending === 'function' ? this.pending() : this.pending;
    this.handle.html(figureDivHtml(fig, nextFigureId()));
    this.pending = undefined;
    this.last = this.now();
    this.draws += 1;
  }
}

/**
 * Live loss curves for a training loop: `push(row)` each logged metrics row (the
 * objects the trainer writes to `metrics.jsonl`), `done()` after the loop.
 */
export class LiveTrainingCurves {
  /** Every row pushed so far. */
  readonly rows: MetricsRow[] = [];
  private readonly live: LiveFigure;
  private readonly figureOptions: LossCurvesOptions;

  constructor(o: LiveFigureOptions & LossCurvesOptions = {}) {
    this.live = new LiveFigure(o);
    this.figureOptions = o;
  }

  push(row: MetricsRow): void {
    this.rows.push(row);
    this.live.update(() => lossCurvesFigure(this.rows, this.figureOptions));
  }

  /** Draws the final state. */
  done(): void {
    this.live.flush();
  }
}

/** Displays a result table as an HTML `<table>` in the current notebook cell (`tableHtml`). */
export function showTable(
  header: readonly string[],
  rows: readonly (readonly TableCell[])[],
  o: TableOptions & ShowOptions = {},
): void {
  (o.host ?? tslabHost()).display.html(tableHtml(header, rows, o));
}

/** Displays a short text block (preformatted) in the current notebook cell. */
export function showText(text: string, o: ShowOptions = {}): void {
  (o.host ?? tslabHost()).display.html(`<pre style="margin:2px 0">${escapeHtml(text)}</pre>`);
}

/** The HTML of one progress line: a bar for `step/total` when the line has one, then the text. */
export function progressHtml(line: string): string {
  const m = /(\d+)\/(\d+)/.exec(line);
  const bar = m
    ? `<progress value="${Number(m[1])}" max="${Math.max(1, Number(m[2]))}" style="width:180px;margin-right:8px"></progress>`
    : '';
  return `<div class="carp-progress" style="font-family:monospace;font-size:12px">${bar}${escapeHtml(line)}</div>`;
}

/**
 * A progress stream drawn in the notebook: one display per progress, redrawn in place
 * (throttled to `throttleMs`, the last line always drawn), instead of stderr lines.
 */
export function notebookProgressStream(
  o: ShowOptions & { throttleMs?: number; now?: () => number } = {},
): ProgressStream {
  const handle = (o.host ?? tslabHost()).newDisplay();
  const now = o.now ?? (() => performance.now());
  const throttle = o.throttleMs ?? 250;
  let last = -Infinity;
  return {
    isTTY: true,
    write(text: string) {
      // The terminal protocol of `Progress`: "\r<line>\x1b[K", plus "\n" after the last step.
      const final = text.endsWith('\n');
      // eslint-disable-next-line no-control-regex
      const line = text.replace(/\r|\x1b\[K|\n/g, '');
      if (!final && now() - last < throttle) return true;
      handle.html(progressHtml(line));
      last = now();
      return true;
    },
  };
}

/**
 * Routes every later progress (training, feature extraction, classifiers) and
 * informational line (`info`) into the notebook, instead of stderr.
 */
export function showProgressInNotebook(o: ShowOptions = {}): void {
  setProgressStreams(() => notebookProgressStream(o));
  setInfoSink((message) =>
    (o.host ?? tslabHost()).display.html(
      `<div class="carp-info" style="font-family:monospace;font-size:12px;color:#555">${escapeHtml(message)}</div>`,
    ),
  );
}
