/**
 * metrics.jsonl rows as TensorBoard scalars under the official trainer's tags and units
 * (loss/total divided by the accumulation, accuracies in percent), worked by hand.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEventFile } from '../../../src/interop/tensorboard/eventFile';
import {
  KIT_TAGS,
  kitScalarRows,
  writeRunEvents,
} from '../../../src/interop/tensorboard/kitEvents';

const dir = mkdtempSync(join(tmpdir(), 'carp-kitevents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kitScalarRows', () => {
  it('renames and rescales the fields a row has, and leaves out those it has not', () => {
    const rows = kitScalarRows(
      [
        { step: 0, elapsed: 1.5, loss: 2, consistency: 1.25, top1: 0.25, lr: 0.1 },
        { step: 1, elapsed: 3, top5: 0.5, imagesPerSecond: 40, note: 'x' },
      ],
      4,
      1_000_000,
    );
    expect(rows).toEqual([
      {
        step: 0,
        wallTime: 1001.5,
        scalars: { 'loss/total': 0.5, 'loss/consistency': 1.25, lr: 0.1, 'acc/top1': 25 },
      },
      { step: 1, wallTime: 1003, scalars: { 'acc/top5': 50, 'perf/images_per_second': 40 } },
    ]);
    expect(KIT_TAGS.map((t) => t.tag)).toEqual([
      'loss/total',
      'loss/consistency',
      'loss/entropy',
      'lr',
      'momentum',
      'acc/top1',
      'acc/top5',
      'wd',
      'perf/images_per_second',
      'epoch',
    ]);
  });

  it('refuses a row without a numeric step and elapsed, naming the row', () => {
    expect(() => kitScalarRows([{ step: 0, elapsed: 0 }, { step: 1 }], 1, 0)).toThrow(
      'metrics row 2 has no numeric step and elapsed',
    );
  });
});

describe('writeRunEvents', () => {
  it('writes a run directory’s metrics as an event file', () => {
    const run = mkdtempSync(join(dir, 'run-'));
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: { accumulation: 2 } }));
    writeFileSync(join(run, 'run.json'), JSON.stringify({ startedAt: '1970-01-01T00:00:10.000Z' }));
    writeFileSync(join(run, 'metrics.jsonl'), '{"step":3,"elapsed":2,"loss":1}\n\n');
    const { path, steps } = writeRunEvents(run);
    expect(steps).toBe(1);
    expect(path.startsWith(join(run, 'tensorboard'))).toBe(true);
    const read = readEventFile(path);
    expect(read.scalars.get('loss/total')).toEqual([{ step: 3, wallTime: 12, value: 0.5 }]);
  });

  it('names the file and field that are wrong', () => {
    const run = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: { accumulation: 0 } }));
    expect(() => writeRunEvents(run)).toThrow(
      `${join(run, 'config.json')}: train.accumulation must be a positive integer, got 0`,
    );
    writeFileSync(join(run, 'config.json'), JSON.stringify({ train: { accumulation: 1 } }));
    writeFileSync(join(run, 'run.json'), JSON.stringify({ startedAt: 'soon' }));
    expect(() => writeRunEvents(run)).toThrow(
      `${join(run, 'run.json')}: startedAt must be an ISO date, got "soon"`,
    );
    writeFileSync(join(run, 'run.json'), JSON.stringify({ startedAt: '2026-01-01T00:00:00Z' }));
    writeFileSync(join(run, 'metrics.jsonl'), '{"step":0,"elapsed":0}\n{oops\n');
    expect(() => writeRunEvents(run)).toThrow(`${join(run, 'metrics.jsonl')}: line 2 is not JSON`);
  });
});
