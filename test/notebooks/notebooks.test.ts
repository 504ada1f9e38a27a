/**
 * Executes every notebooks/*.ipynb headless in the carp-kit kernel through
 * environment/run-notebooks.py (nbclient, Debian's /usr/bin/python3), so walkthroughs
 * never rot (architecture §1). CARP_PRESET is passed through (default here `fmnist-tiny`,
 * as in CI). Executed copies and per-cell times land in test-output/notebooks/, and their
 * HTML exports in test-output/notebooks/html/ (a CI artefact), each of which is then
 * opened in headless chromium: every figure must draw, with nothing fetched from outside.
 * dist/ is rebuilt first, because notebooks import the compiled package.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumDom } from '../helpers/chromium';

const ROOT = resolve(__dirname, '..', '..');
const OUT = join(ROOT, 'test-output', 'notebooks');
const HTML = join(OUT, 'html');
const PYTHON = process.env.CARP_JUPYTER_PYTHON ?? '/usr/bin/python3';
const files = readdirSync(join(ROOT, 'notebooks'))
  .filter((f) => f.endsWith('.ipynb'))
  .sort();

interface Summary {
  results: { notebook: string; seconds: number; error: { cell: number; message: string } | null }[];
}

function runNotebook(file: string): Promise<{ code: number; log: string; summary?: Summary }> {
  const summaryPath = join(OUT, file.replace(/\.ipynb$/, '.summary.json'));
  // A previous run's summary and executed copy must never stand in for this run's.
  rmSync(summaryPath, { force: true });
  rmSync(join(OUT, file), { force: true });
  rmSync(join(HTML, file.replace(/\.ipynb$/, '.html')), { force: true });
  const args = [
    join(ROOT, 'environment', 'run-notebooks.py'),
    '--out',
    OUT,
    '--summary',
    summaryPath,
    '--html',
    HTML,
    join(ROOT, 'notebooks', file),
  ];
  const env = { ...process.env, CARP_PRESET: process.env.CARP_PRESET ?? 'fmnist-tiny' };
  return new Promise((res) => {
    execFile(PYTHON, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      const summary = existsSync(summaryPath)
        ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as Summary)
        : undefined;
      res({ code: typeof code === 'number' ? code : 1, log: `${stdout}${stderr}`, summary });
    });
  });
}

beforeAll(() => {
  if (process.env.CARP_SKIP_BUILD === '1') return;
  // The notebooks import the compiled package: a build that fails is a failure here, not
  // a set of notebooks run against whatever dist/ an earlier build left.
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      {
        cwd: ROOT,
        stdio: 'pipe',
      },
    );
  } catch (e) {
    const out = e as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `the library build for the notebooks failed:\n${out.stdout ?? ''}${out.stderr ?? ''}`,
    );
  }
  expect(existsSync(join(ROOT, 'dist', 'index.js')), 'dist/index.js missing after build').toBe(
    true,
  );
}, 300_000);

describe('notebooks execute headless', () => {
  it.each(files)('%s runs without errors', { timeout: 1_800_000 }, async (file) => {
    const r = await runNotebook(file);
    expect(r.code, r.log).toBe(0);
    expect(r.summary?.results[0]?.error ?? null, r.log).toBeNull();
    console.log(
      `${file}: ${r.summary?.results[0]?.seconds} s (CARP_PRESET=${process.env.CARP_PRESET ?? 'fmnist-tiny'})`,
    );
  });

  it.each(files)(
    '%s: its HTML export draws every figure in chromium, offline',
    { timeout: 300_000 },
    async (file) => {
      const executed = join(OUT, file);
      const page = join(HTML, file.replace(/\.ipynb$/, '.html'));
      expect(existsSync(page), 'run the notebook first (same file)').toBe(true);
      const html = readFileSync(page, 'utf8');
      // Offline: no script, style or image is loaded from the network.
      expect(html.match(/<(?:script|link|img)[^>]+(?:src|href)="https?:[^"]*"/g) ?? []).toEqual([]);
      // The figures the notebook's outputs hold (by div id) must all be drawn by plotly.
      const outputs = readFileSync(executed, 'utf8');
      const ids = [...new Set(outputs.match(/carp-fig-[0-9a-f]+-\d+/g) ?? [])];
      const dom = await chromiumDom(pathToFileURL(page).href, { windowSize: '1200,2000' });
      const undrawn = ids.filter(
        (id) =>
          !new RegExp(
            `<div id="${id}" class="carp-figure[^"]*"[^>]*><div class="plot-container plotly"`,
          ).test(dom),
      );
      expect(undrawn, `figures not drawn in ${page}`).toEqual([]);
      // the figure scripts' fallback text, shown in the div when window.Plotly is missing
      expect(dom).not.toMatch(/class="carp-figure[^"]*"[^>]*>plotly\.js is not loaded/);
      // Equations in the markdown are typeset (MathJax's output elements), when there are any.
      const markdown = (
        JSON.parse(outputs) as { cells: { cell_type: string; source: string[] }[] }
      ).cells
        .filter((c) => c.cell_type === 'markdown')
        .map((c) => c.source.join(''))
        .join('\n');
      if (/\$\$|\$[^$\s][^$\n]*\$/.test(markdown)) expect(dom).toMatch(/class="MJX|mjx-chtml/);
      console.log(`${file}: ${ids.length} figures drawn in ${page}`);
    },
  );

  it('00-quickstart shows the backend and a plotly figure', { timeout: 60_000 }, () => {
    const executed = join(OUT, '00-quickstart.ipynb');
    expect(existsSync(executed), 'run the quickstart first (same file)').toBe(true);
    const nb = JSON.parse(readFileSync(executed, 'utf8')) as {
      cells: {
        outputs?: {
          output_type: string;
          text?: string | string[];
          data?: Record<string, string | string[]>;
        }[];
      }[];
    };
    const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
    const text = (v: string | string[] | undefined): string =>
      Array.isArray(v) ? v.join('') : (v ?? '');
    expect(outputs.some((o) => /backend in use: \w+/.test(text(o.text)))).toBe(true);
    const html = outputs.map((o) => text(o.data?.['text/html']));
    expect(html.filter((h) => h.includes('window.Plotly = Plotly'))).toHaveLength(1); // bundle once
    expect(html.filter((h) => h.includes('Plotly.newPlot')).length).toBeGreaterThanOrEqual(1);
  });
});
