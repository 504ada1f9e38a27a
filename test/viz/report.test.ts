import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findKnnResults, reportFigures, writeReport } from '../../src/viz/report';
import { readRunDir } from '../../src/viz/runDir';
import { makeSyntheticRun } from './syntheticRun';

describe('reportFigures', () => {
  it('draws every recognised piece of a run, in page order', async () => {
    const figs = reportFigures(await readRunDir(makeSyntheticRun()));
    expect(figs.map((f) => f.layout.title?.text?.split(' (')[0])).toEqual([
      'CARP loss',
      'Schedules',
      'Results',
      'copydays: precision–recall',
      'knn: weighted k-NN accuracy',
      'linear: confusion matrix',
      'prototypes: prototype usage<br><sub>59/64 used, effective 50.3, max share 3.1%</sub>',
    ]);
  });

  it('finds k-NN results at the top level or under results/knn only', () => {
    expect(findKnnResults({ 5: { top1: 0.5 } })).toEqual({ 5: { top1: 0.5 } });
    expect(findKnnResults({ knn: { 5: { top1: 0.5 } } })).toEqual({ 5: { top1: 0.5 } });
    expect(findKnnResults({ 5: { top1: 0.5 }, k: 3 })).toBeUndefined();
    expect(findKnnResults([1])).toBeUndefined();
  });
});

describe('writeReport', () => {
  it('writes a standalone report.html atomically (no temp file left, no CDN)', async () => {
    const dir = makeSyntheticRun();
    const r = await writeReport(dir);
    expect(r).toEqual({ path: join(dir, 'report.html'), figures: 7, problems: [] });
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
    const html = readFileSync(r.path, 'utf8');
    expect(html).toContain('window.Plotly = Plotly');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).toContain('<th>versions.tfjs</th><td>4.22.0</td>');
    expect(html.match(/class="carp-figure"/g)).toHaveLength(7);
  });

  it('tolerates an empty run directory and honours out/title', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carp-run-'));
    const out = join(dir, 'x.html');
    const r = await writeReport(dir, { out, title: 'Empty <run>' });
    expect(r.figures).toBe(0);
    expect(r.problems).toContain('metrics.jsonl is missing');
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Empty &#60;run&#62;</title>');
    expect(html).toContain('<li>metrics.jsonl is missing</li>');
    expect(html).toContain('data-plots="ready"');
  });
});
