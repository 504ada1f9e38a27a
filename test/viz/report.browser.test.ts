/**
 * The report in a real browser (architecture §7.6): Debian's headless chromium loads a
 * report built from a synthetic run, and we check in the dumped DOM that every
 * Plotly.newPlot resolved (the page's own `data-plots` marker), that plotly drew SVG,
 * and that the screenshot is not blank. The screenshot stays in
 * test-output/viz/report.png (CI artefact) for a human look.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { writeReport } from '../../src/viz/report';
import { makeSyntheticRun } from './syntheticRun';

const CHROMIUM = process.env.CARP_CHROMIUM ?? '/usr/bin/chromium';
const OUT_DIR = resolve(__dirname, '..', '..', 'test-output', 'viz');

/** Runs headless chromium on `url`; resolves with the dumped DOM. */
function chromium(url: string, screenshot: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'carp-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    '--hide-scrollbars',
    '--window-size=1200,3800',
    // virtual time runs the page's timers to completion without waiting in real time
    '--virtual-time-budget=15000',
    `--screenshot=${screenshot}`,
    '--dump-dom',
    url,
  ];
  return new Promise((res, rej) => {
    execFile(CHROMIUM, args, { timeout: 150_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      // dbus errors on stderr are harmless; a non-zero exit is not
      if (err) rej(new Error(`chromium failed: ${err.message}\n${stderr.slice(-2000)}`));
      else res(stdout);
    });
  });
}

describe('report.html in headless chromium', () => {
  it('draws every figure without plotly errors', { timeout: 200_000 }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium`).toBe(true);
    mkdirSync(OUT_DIR, { recursive: true });
    const html = join(OUT_DIR, 'report.html');
    const png = join(OUT_DIR, 'report.png');
    rmSync(png, { force: true });
    const report = await writeReport(makeSyntheticRun(), { out: html });
    expect(report.figures).toBe(7);

    const dom = await chromium(pathToFileURL(html).href, png);
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
