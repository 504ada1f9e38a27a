/**
 * HTML for plotly figures, shared by the notebook display (`display.ts`) and the
 * standalone report (`report.ts`). Offline by design: the plotly.js bundle comes
 * from the installed `plotly.js-dist` package and is inlined — no CDN, since the
 * machines this kit runs on often reach no network (architecture §7.6).
 */
import { readFileSync } from 'node:fs';
import type { PlotlyFigure } from './figure';

let bundle: string | undefined;

/** The plotly.js bundle source (≈10 MB; read once per process). */
export function plotlyBundle(): string {
  bundle ??= readFileSync(require.resolve('plotly.js-dist/plotly.js'), 'utf8');
  return bundle;
}

/**
 * `<script>`s that define `window.Plotly` (the bundle ends with `window.Plotly = Plotly`)
 * and then draw any figures of the page that were waiting for it.
 */
export function plotlyScriptTag(): string {
  // A literal "</script" inside would end the element early; plotly 4.1 has none,
  // but escaping keeps a future bundle safe ("<\/" is the same string in JS).
  return (
    `<script type="text/javascript">${plotlyBundle().replace(/<\/(script)/gi, '<\\/$1')}</script>\n` +
    // draw the figures that were waiting for plotly.js (see figureDivHtml)
    `<script type="text/javascript">(window.carpPending || []).splice(0).forEach(function (d) { d(); });</script>`
  );
}

/**
 * JSON that is safe inside an inline `<script>`: `<`, `>`, `&` and the JS line
 * separators U+2028/2029 are escaped, so figure text cannot close the element.
 * NaN/±Infinity become null (plotly draws gaps).
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView)
      ? Array.from(v as unknown as ArrayLike<number>)
      : v,
  )
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Plot-level defaults: responsive, no link to plotly's cloud editor. */
export const DEFAULT_CONFIG: Record<string, unknown> = { responsive: true, displaylogo: false };

/**
 * A `<div>` plus the script that draws `fig` into it with `Plotly.newPlot`.
 * The script expects `window.Plotly` (from `plotlyScriptTag()` earlier in the page).
 * When it is missing — a notebook page reloaded or its outputs cleared while the
 * kernel, which inlines the bundle only once, lives on — the div says so and the
 * draw is queued in `window.carpPending`; `plotlyScriptTag()` drains that queue, so
 * running `loadPlotly()` once brings every waiting figure of the page to life.
 * `onDrawn` is a JS expression evaluated with the newPlot promise as `p` (the report
 * uses it to count finished plots).
 */
export function figureDivHtml(fig: PlotlyFigure, divId: string, onDrawn?: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(divId)) throw new Error(`bad div id ${JSON.stringify(divId)}`);
  const config = { ...DEFAULT_CONFIG, ...fig.config };
  const height = typeof fig.layout.height === 'number' ? `${fig.layout.height}px` : '450px';
  return (
    `<div id="${divId}" class="carp-figure" style="min-height:${height}"></div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `  var el = document.getElementById(${scriptJson(divId)});\n` +
    `  function draw() {\n` +
    `    el.textContent = '';\n` +
    `    var p = window.Plotly.newPlot(el, ${scriptJson(fig.data)}, ${scriptJson(fig.layout)}, ${scriptJson(config)});\n` +
    (onDrawn ? `    ${onDrawn};\n` : '') +
    `  }\n` +
    `  if (window.Plotly) return draw();\n` +
    `  el.textContent = ${scriptJson(MISSING_PLOTLY)};\n` +
    `  (window.carpPending = window.carpPending || []).push(draw);\n` +
    `})();</script>`
  );
}

/** Shown in a figure's div while plotly.js is missing from the page. */
export const MISSING_PLOTLY =
  'plotly.js is not loaded in this page (reloaded or cleared outputs): run loadPlotly() from carp-kit to draw this figure.';
