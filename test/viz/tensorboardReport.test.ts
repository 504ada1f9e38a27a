/**
 * `carp report` with TensorBoard event files: an official-trainer-style run written by the
 * independent Python writer (test/fixtures/tensorboard/events.py) is drawn beside the
 * kit's curves; `--write-events` writes the kit's metrics as an event file.
 */
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { readEventFile } from '../../src/interop/tensorboard';
import { reportFigures } from '../../src/viz/report';
import { readRunDir } from '../../src/viz/runDir';

const SCRIPT = join(__dirname, '..', 'fixtures', 'tensorboard', 'events.py');

/** An official-trainer-like event file (its tags) in `dir`, written by Python. */
function officialEvents(dir: string): string {
  const spec = join(dir, '..', 'spec.json');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    spec,
    JSON.stringify({
      wallTime: 1700000000,
      points: [
        ['loss/total', 0, 0.25, 'simple'],
        ['loss/consistency', 0, 7.5, 'simple'],
        ['loss/entropy', 0, 0.5, 'simple'],
        ['lr', 0, 0.0625, 'tensor'],
        ['momentum', 0, 0.5, 'simple'],
        ['acc/top1', 0, 12.5, 'simple'],
        ['loss/total', 100, 0.125, 'simple'],
        ['loss/consistency', 100, 3.5, 'simple'],
        ['loss/entropy', 100, 0.5, 'simple'],
        ['acc/top1', 100, 50, 'tensor'],
      ],
    }),
  );
  const r = spawnSync('/usr/bin/python3', [SCRIPT, 'write', dir, spec], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** A kit run directory with two logged steps. */
function kitRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'carp-run-'));
  const rows = [0, 1].map((i) => ({
    step: i * 10,
    epoch: 0,
    loss: 6 - i,
    consistency: 5 - i,
    entropy: 1,
    lr: 0.5,
    wd: 1e-6,
    momentum: 0.5,
    top1: 0.125,
    top5: 0.25,
    imagesPerSecond: 64,
    elapsed: 2 * (i + 1),
  }));
  writeFileSync(join(dir, 'metrics.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ train: { accumulation: 2 } }));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ startedAt: '2024-05-01T12:00:00.000Z' }));
  return dir;
}

async function carp(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s) => ((stdout += String(s)), true));
  const err = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s) => ((stderr += String(s)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const titles = (figs: { layout: { title?: { text: string } } }[]) =>
  figs.map((f) => f.layout.title?.text);

describe('event-file curves in the report', () => {
  it('a --tensorboard folder: loss, schedules and accuracy figures after the kit curves', async () => {
    const run = kitRun();
    const official = mkdtempSync(join(tmpdir(), 'carp-official-'));
    officialEvents(join(official, 'runs', 'Jan01_host'));
    const record = await readRunDir(run, { tensorboard: [official] });
    const figs = reportFigures(record);
    const name = join(official, 'runs', 'Jan01_host');
    expect(titles(figs)).toEqual([
      'CARP loss',
      'Schedules',
      `TensorBoard ${name}: loss`,
      `TensorBoard ${name}: schedules`,
      `TensorBoard ${name}: pseudo-label accuracy`,
    ]);
    const loss = figs[2].data.map((t) => [t.name, Array.from(t.x!), Array.from(t.y!)]);
    expect(loss).toEqual([
      ['total', [0, 100], [0.25, 0.125]],
      ['consistency', [0, 100], [7.5, 3.5]],
      ['entropy', [0, 100], [0.5, 0.5]],
    ]);
    expect(figs[4].data.map((t) => [t.name, Array.from(t.y!)])).toEqual([['top-1', [12.5, 50]]]);
  });

  it('event files inside the run directory are found without the option', async () => {
    const run = kitRun();
    officialEvents(join(run, 'official'));
    const record = await readRunDir(run);
    expect(record.tensorboard.map((t) => [t.name, t.tags])).toEqual([
      [
        'official',
        ['acc/top1', 'loss/consistency', 'loss/entropy', 'loss/total', 'lr', 'momentum'],
      ],
    ]);
  });

  it('a damaged event file is listed as a problem; its sound records still draw', async () => {
    const run = kitRun();
    const file = officialEvents(join(run, 'official'));
    appendFileSync(file, Buffer.from([1, 2, 3]));
    const record = await readRunDir(run);
    expect(record.problems).toEqual([
      'no eval/ results yet',
      `event file ${file}: record at byte ${readFileSync(file).length - 3}: truncated header (3 of 12 bytes)`,
    ]);
    expect(record.tensorboard[0].rows).toHaveLength(2);
  });
});

describe('carp report', () => {
  it('--write-events writes the kit metrics; the report does not draw its own copy', async () => {
    const run = kitRun();
    const official = mkdtempSync(join(tmpdir(), 'carp-official-'));
    officialEvents(official);
    const r = await carp(['report', run, '--write-events', '--tensorboard', official]);
    expect(r.code).toBe(0);
    const [file] = readdirSync(join(run, 'tensorboard'));
    expect(file).toMatch(/^events\.out\.tfevents\.\d+\..+\.carp-kit$/);
    expect(r.stdout).toBe(
      `events: ${join(run, 'tensorboard', file)} (2 steps)\nreport: ${join(run, 'report.html')}\n`,
    );
    const written = readEventFile(join(run, 'tensorboard', file));
    // loss / accumulation 2; acc in percent; wall time = startedAt + elapsed.
    const t0 = Date.parse('2024-05-01T12:00:00.000Z') / 1000;
    expect(written.scalars.get('loss/total')).toEqual([
      { step: 0, wallTime: t0 + 2, value: 3 },
      { step: 10, wallTime: t0 + 4, value: 2.5 },
    ]);
    expect(written.scalars.get('acc/top1')!.map((p) => p.value)).toEqual([12.5, 12.5]);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html.match(/class="carp-figure"/g)).toHaveLength(5);
    expect(html).toContain(`TensorBoard ${official}: loss`);
    expect(html).not.toContain('TensorBoard tensorboard');
  });

  it('a missing --tensorboard folder is a usage error', async () => {
    const r = await carp(['report', kitRun(), '--tensorboard', '/nonexistent/tb']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('carp report: --tensorboard folder /nonexistent/tb does not exist\n');
  });
});
