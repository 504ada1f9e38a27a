/**
 * The bench report: how figures are printed, the table with its targets and notes
 * (a hand-made report), and the results file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatReport, gitSha, num, writeReport, type BenchReport } from '../../src/bench/report';

const dir = mkdtempSync(join(tmpdir(), 'carp-bench-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REPORT: BenchReport = {
  startedAt: '2026-01-01T00:00:00.000Z',
  seconds: 12.4,
  gitSha: null,
  machine: {
    cpu: 'CPU X',
    cores: 2,
    memoryGiB: 8,
    os: 'Linux',
    node: 'v22',
    tfjs: '4.22.0',
    backend: 'cpu',
  },
  scenarios: ['knn'],
  rows: [
    {
      scenario: 'knn-small',
      unit: 'seconds',
      higherIsBetter: false,
      ours: 0.5,
      peer: 0.25,
      peerName: 'python3-faiss',
      speedRatio: 0.5,
      backend: 'faiss',
      notes: ['1 thread'],
    },
  ],
  profiles: [],
  failures: [{ scenario: 'kmeans', error: 'boom' }],
  targets: [{ scenario: 'knn-small', target: 'time ≤ 1.5× Python faiss', met: false }],
};

describe('num', () => {
  it('prints — for none, 0 decimals from 100, 2 from 1, else 3 significant digits', () => {
    expect([null, 1234.5, -150, 12.345, 1, 0.012345, 0].map(num)).toEqual([
      '—',
      '1235',
      '-150',
      '12.35',
      '1.00',
      '0.0123',
      '0.00',
    ]);
  });
});

describe('formatReport', () => {
  it('prints the machine, the table, targets, notes, failures and the row count', () => {
    expect(formatReport(REPORT)).toBe(
      [
        'carp-kit bench — CPU X, 2 cores, 8 GiB, Linux, Node v22, tfjs 4.22.0 (cpu), load undefined',
        'ratio: > 1 means ours is faster (ours/peer for images/s, peer/ours for seconds)',
        '',
        'scenario   unit     ours   peer   ratio  backend  peer name',
        '---------  -------  -----  -----  -----  -------  -------------',
        'knn-small  seconds  0.500  0.250  0.50×  faiss    python3-faiss',
        '',
        'targets:',
        '  MISS  knn-small: time ≤ 1.5× Python faiss',
        '',
        'notes:',
        '  knn-small: 1 thread',
        'FAILED kmeans: boom',
        '',
        '1 rows in 12 s',
        '',
      ].join('\n'),
    );
  });
});

describe('writeReport / gitSha', () => {
  it('writes the report as JSON and returns the path', () => {
    const path = writeReport(REPORT, join(dir, 'sub', 'results.json'));
    expect(path).toBe(join(dir, 'sub', 'results.json'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(REPORT);
  });

  it('names the checkout’s commit', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: join(__dirname, '..', '..') });
    expect(gitSha()).toBe(head.toString().trim());
  });
});
