import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMetricsJsonl, readRunDir } from '../../src/viz/runDir';

describe('parseMetricsJsonl', () => {
  it('skips blank lines and counts bad ones (a half-written last line)', () => {
    expect(parseMetricsJsonl('{"step":0}\n\n[1]\n{"step":1}\n{"step":2, "lo')).toEqual({
      rows: [{ step: 0 }, { step: 1 }],
      badLines: 2,
    });
  });
});

describe('readRunDir', () => {
  it('reads every piece and lists what is missing or broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carp-run-'));
    writeFileSync(join(dir, 'config.json'), '{"seed": 1}');
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":0,"loss":1}\n');
    mkdirSync(join(dir, 'eval'));
    writeFileSync(join(dir, 'eval', 'b.json'), '{"x": 2}');
    writeFileSync(join(dir, 'eval', 'a.json'), '{"x": 1}');
    writeFileSync(join(dir, 'eval', 'c.json'), '{oops');
    writeFileSync(join(dir, 'eval', 'notes.txt'), 'ignored');
    const r = await readRunDir(dir);
    expect(r.config).toEqual({ seed: 1 });
    expect(r.run).toBeUndefined();
    expect(r.metrics).toEqual([{ step: 0, loss: 1 }]);
    expect(r.evals).toEqual([
      { name: 'a', json: { x: 1 } },
      { name: 'b', json: { x: 2 } },
    ]);
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toBe('run.json is missing');
    expect(r.problems[1]).toMatch(/^eval\/c.json is not valid JSON/);
  });

  it('an empty directory is a report of problems, not an exception', async () => {
    const r = await readRunDir(mkdtempSync(join(tmpdir(), 'carp-run-')));
    expect(r.problems).toEqual([
      'config.json is missing',
      'run.json is missing',
      'metrics.jsonl is missing',
      'no eval/ results yet',
    ]);
  });
});
