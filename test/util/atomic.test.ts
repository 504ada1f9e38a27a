import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  commitDir,
  removeStaleTemps,
  tempSibling,
  writeFileAtomic,
  writeJsonAtomic,
} from '../../src/util/atomic';

describe('atomic writes', () => {
  it('tempSibling is a hidden, unique name in the same folder (rename stays atomic)', () => {
    const a = tempSibling('/x/y/result.json');
    const b = tempSibling('/x/y/result.json');
    expect(dirname(a)).toBe('/x/y');
    expect(basename(a)).toMatch(/^\.result\.json\.tmp-\d+-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  it('writeFileAtomic and writeJsonAtomic leave the whole file and no temporary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-'));
    writeFileAtomic(join(dir, 'sub', 'a.txt'), 'hello');
    expect(readFileSync(join(dir, 'sub', 'a.txt'), 'utf8')).toBe('hello');
    writeJsonAtomic(join(dir, 'b.json'), { x: [1, 2] });
    expect(readFileSync(join(dir, 'b.json'), 'utf8')).toBe('{\n  "x": [\n    1,\n    2\n  ]\n}\n');
    expect(readdirSync(dir).sort()).toEqual(['b.json', 'sub']);
  });

  it('a failed write leaves the previous file and no temporary behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-fail-'));
    const file = join(dir, 'c.txt');
    writeFileSync(file, 'old');
    // A value writeFileSync refuses: the write fails after the temporary was opened.
    expect(() => writeFileAtomic(file, 42 as unknown as string)).toThrow();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['c.txt']);
  });

  it('commitDir moves a finished folder into place, replacing only with overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-dir-'));
    const target = join(dir, 'set');
    const make = (content: string) => {
      const tmp = tempSibling(target);
      mkdirSync(tmp);
      writeFileSync(join(tmp, 'f'), content);
      return tmp;
    };
    commitDir(make('one'), target, false);
    expect(readFileSync(join(target, 'f'), 'utf8')).toBe('one');
    const second = make('two');
    expect(() => commitDir(second, target, false)).toThrow(/already exists/);
    commitDir(second, target, true);
    expect(readFileSync(join(target, 'f'), 'utf8')).toBe('two');
    expect(existsSync(second)).toBe(false);
    expect(readdirSync(dir)).toEqual(['set']);
  });

  it('removeStaleTemps removes what a dead writer left, keeps a live writer’s and other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atomic-stale-'));
    // The id of a process that has exited (a child run to completion).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout;
    const stale = `.step-000000005.safetensors.tmp-${dead}-57a3378e`;
    const staleDir = `.train.partial-${dead}-0badc0de`;
    const live = basename(tempSibling(join(dir, 'latest.safetensors')));
    for (const f of [stale, live, 'latest.safetensors', '.hidden-note'])
      writeFileSync(join(dir, f), 'x');
    mkdirSync(join(dir, staleDir));
    expect(removeStaleTemps(dir).sort()).toEqual([stale, staleDir].sort());
    expect(readdirSync(dir).sort()).toEqual([live, '.hidden-note', 'latest.safetensors'].sort());
    expect(removeStaleTemps(join(dir, 'missing'))).toEqual([]);
  });
});
