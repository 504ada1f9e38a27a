/**
 * run.json: what a new record holds, that it round-trips through the file, and that a file
 * which is not a run record is a FormatError saying how to go on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/util/formatError';
import {
  createRunRecord,
  PACKAGE_ROOT,
  readRunRecord,
  writeRunRecord,
} from '../../src/util/runRecord';

const dir = mkdtempSync(join(tmpdir(), 'carp-runrecord-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createRunRecord', () => {
  it('records the caller’s settings, this checkout and a running status', () => {
    const r = createRunRecord({ backend: 'cpu', seed: 7, preset: 'tiny', command: ['a', 'b'] });
    expect(r).toMatchObject({
      backend: 'cpu',
      seed: 7,
      preset: 'tiny',
      command: ['a', 'b'],
      endedAt: null,
      status: 'running',
      resumes: 0,
      node: process.version,
    });
    expect(PACKAGE_ROOT).toBe(join(__dirname, '..', '..'));
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PACKAGE_ROOT }).toString();
    expect(r.gitSha).toBe(head.trim());
    const pkg = JSON.parse(
      readFileSync(
        join(PACKAGE_ROOT, 'node_modules', '@tensorflow/tfjs-core', 'package.json'),
        'utf8',
      ),
    ) as { version: string };
    expect(r.packages['@tensorflow/tfjs-core']).toBe(pkg.version);
    expect(Object.keys(r.packages)).toEqual([
      'carp-kit',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-backend-webgpu',
      'faiss-node',
    ]);
    expect(new Date(r.startedAt).toISOString()).toBe(r.startedAt);
  });
});

describe('writeRunRecord / readRunRecord', () => {
  it('round-trips a record through run.json', () => {
    const r = { ...createRunRecord({ backend: 'wasm', seed: 1, preset: null, command: [] }) };
    r.status = 'interrupted';
    r.resumes = 2;
    writeRunRecord(dir, r);
    expect(readFileSync(join(dir, 'run.json'), 'utf8').endsWith('}\n')).toBe(true);
    expect(readRunRecord(dir)).toEqual(r);
  });

  it('refuses a file that is not a run record, with how to go on', () => {
    const bad = mkdtempSync(join(dir, 'bad-'));
    const path = join(bad, 'run.json');
    writeFileSync(path, '{"status": "running"');
    expect(() => readRunRecord(bad)).toThrow(FormatError);
    expect(() => readRunRecord(bad)).toThrow(`${path}: run record is corrupt: not JSON`);
    writeFileSync(path, '{"status": "running", "resumes": 0.5}');
    expect(() => readRunRecord(bad)).toThrow(
      `${path}: run record is corrupt: not a run record (expected an object with status and ` +
        'resumes); move it aside to continue (a new record is started)',
    );
    writeFileSync(path, 'null');
    expect(() => readRunRecord(bad)).toThrow('not a run record');
  });

  it('says which file it could not read', () => {
    const none = join(dir, 'missing');
    expect(() => readRunRecord(none)).toThrow(`cannot read run record ${join(none, 'run.json')}`);
  });
});
