/**
 * The report in a real browser (architecture §7.6): Debian's headless chromium loads a
 * report built from a synthetic run, and we check in the dumped DOM that every
 * Plotly.newPlot resolved (the page's own `data-plots` marker), that plotly drew SVG,
 * and that the screenshot is not blank. The screenshot stays in
 * test-output/viz/report.png (CI artefact) for a human look.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../src/viz/report';
import { CHROMIUM, chromiumDom } from '../helpers/chromium';
import { makeSyntheticRun } from './syntheticRun';

const OUT_DIR = resolve(__dirname, '..', '..', 'test-output', 'viz');

describe('report.html in headless chromium', () => {
  it('draws every figure without plotly errors', { timeout: 200_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium`).toBe(true);
    mkdirSync(OUT_DIR, { recursive: true });
    const html = join(OUT_DIR, 'report.html');
    const png = join(OUT_DIR, 'report.png');
    rmSync(png, { force: true });
    const report = await writeReport(makeSyntheticRun(), { out: html });
    expect(report.figures).toBe(7);

    const dom = await chromiumDom(pathToFileURL(html).href, { screenshot: png });
    const body = /<body[^>]*>/.exec(dom)?.[0] ?? '';
    expect(body, 'page marker').toContain('data-plots="ready"');
    expect(body).toContain(`data-plots-drawn="${report.figures}"`);
    expect(body).not.toContain('data-plot-errors');
    // each drawn plot holds at least one <svg class="main-svg">
    const svgs = dom.match(/<svg[^>]*class="main-svg"/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(report.figures);
    // the figure scripts' fallback text, shown in the div when window.Plotly is missing
    expect(dom).not.toMatch(/class="carp-figure"[^>]*>plotly\.js is not loaded/);

    // The screenshot is not a blank page: plots put many non-white pixels on it.
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    let dark = 0;
    for (let i = 0; i < data.length; i += info.channels)
      if (data[i] + data[i + 1] + data[i + 2] < 600) dark++;
    expect(dark / (info.width * info.height)).toBeGreaterThan(0.01);
  });
});
