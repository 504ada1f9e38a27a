import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matNumbers, readMat } from '../../data-scripts/lib/mat';

/** MAT files written by scipy.io.savemat (SciPy 1.10), base64 (see the generator in the commit). */
const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'fixtures', 'mat.json'), 'utf8'),
) as Record<string, string>;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-mat-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const file = (name: string) => {
  const p = path.join(tmp, `${name}.mat`);
  fs.writeFileSync(p, Buffer.from(fx[name], 'base64'));
  return p;
};

describe('readMat', () => {
  it('reads numeric arrays (plain and compressed) in column-major order', () => {
    expect(matNumbers(readMat(file('labels')).labels, 'labels')).toEqual([77, 77, 1, 102]);
    const s = readMat(file('setid'));
    expect(matNumbers(s.trnid, 'trnid')).toEqual([1, 3]);
    expect(matNumbers(s.tstid, 'tstid')).toEqual([2, 4]);
    expect(matNumbers(s.valid, 'valid')).toEqual([]);
    const m = readMat(file('meta'));
    expect(matNumbers(m.m, 'm')).toEqual([1.5, 3.5, 2.5, 4.5]);
  });

  it('reads struct arrays and cell arrays of strings', () => {
    const a = readMat(file('annos')).annotations as Record<string, unknown>[];
    expect(a.length).toBe(2);
    expect(a[1].fname).toBe('00002.jpg');
    expect(matNumbers(a[0].class as never, 'class')).toEqual([14]);
    expect(matNumbers(a[1].bbox_x1 as never, 'x1')).toEqual([36]);
    expect(readMat(file('meta')).class_names).toEqual([
      'AM General Hummer SUV 2000',
      'Acura RL Sedan 2012',
      'Émile',
    ]);
  });

  it('names the file on bad input', () => {
    const p = path.join(tmp, 'bad.mat');
    fs.writeFileSync(p, Buffer.alloc(50));
    expect(() => readMat(p)).toThrow(/bad\.mat: too short/);
    const t = Buffer.from(fx.labels, 'base64');
    fs.writeFileSync(p, t.subarray(0, t.length - 10));
    expect(() => readMat(p)).toThrow(/bad\.mat: data element at byte offset 128 needs \d+ bytes/);
  });
});
