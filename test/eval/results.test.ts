import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkEvalResult,
  createEvalResult,
  evalResultName,
  isProxyName,
  readEvalResults,
  resultVariant,
  writeEvalResult,
  type EvalResult,
} from '../../src/eval/results';

const dirs: string[] = [];
function tempRun(): string {
  const d = mkdtempSync(join(tmpdir(), 'carp-results-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function result(over: Partial<EvalResult<{ top1: number }>> = {}): EvalResult<{ top1: number }> {
  return {
    protocol: 'knn',
    dataset: 'cifar10',
    proxy: false,
    splits: { train: 50000, test: 10000 },
    settings: { k: [20], temperature: 0.07 },
    metrics: { top1: 0.91 },
    seconds: 12.5,
    checkpoint: 'runs/a/checkpoints/latest@step100',
    weights: '0123456789abcdef',
    checkpointKeys: { missing: [], unexpected: [] },
    variant: '',
    partial: false,
    createdAt: '2024-05-01T10:00:00.000Z',
    ...over,
  };
}

describe('eval results (eval/*.json)', () => {
  it('writes <protocol>-<dataset>.json atomically and reads it back, typed arrays as arrays', () => {
    const run = tempRun();
    const file = writeEvalResult(run, {
      ...result(),
      metrics: { top1: 0.91, predictions: Int32Array.from([3, 1]) },
    } as EvalResult);
    expect(file).toBe(join(run, 'eval', 'knn-cifar10.json'));
    const raw = JSON.parse(readFileSync(file, 'utf8')) as EvalResult<{ predictions: unknown }>;
    expect(raw.metrics.predictions).toEqual([3, 1]);
    writeEvalResult(
      run,
      result({ protocol: 'fewshot', dataset: 'fmnist-fewshot-proxy', proxy: true }),
    );
    // No temporary files left behind; results sorted by file name.
    expect(readdirSync(join(run, 'eval'))).toEqual([
      'fewshot-fmnist-fewshot-proxy.json',
      'knn-cifar10.json',
    ]);
    const back = readEvalResults(run);
    expect(back.map(evalResultName)).toEqual(['fewshot-fmnist-fewshot-proxy', 'knn-cifar10']);
    expect(back[1].splits).toEqual({ train: 50000, test: 10000 });
    expect(back[0].proxy).toBe(true);
  });

  it('names variants by what differs: checkpoint, non-default settings, limit', () => {
    const defaults = { k: [10, 20], temperature: 0.07 };
    expect(resultVariant({ settings: { ...defaults, dim: 512 }, defaults })).toBe('');
    // Key order does not matter; a changed value does.
    expect(resultVariant({ settings: { temperature: 0.07, k: [10, 20] }, defaults })).toBe('');
    const a = resultVariant({ settings: { ...defaults, k: [10] }, defaults });
    expect(a).toMatch(/^s[0-9a-f]{8}$/);
    expect(resultVariant({ settings: { ...defaults, k: [20] }, defaults })).not.toBe(a);
    expect(
      resultVariant({
        settings: { ...defaults, k: [10] },
        defaults,
        limit: 500,
        checkpointTag: 'epoch 3',
      }),
    ).toBe(`ck-epoch_3.${a}.limit500`);
  });

  it('keeps the previous result of the same name in eval/history; a partial run needs its limit in the name', () => {
    const run = tempRun();
    writeEvalResult(run, result({ createdAt: '2024-05-01T10:00:00.000Z' }));
    writeEvalResult(run, result({ metrics: { top1: 0.5 }, createdAt: '2024-05-02T10:00:00.000Z' }));
    expect(readdirSync(join(run, 'eval', 'history'))).toEqual([
      'knn-cifar10.20240501T100000000Z.json',
    ]);
    expect(readEvalResults(run).map((r) => r.metrics)).toEqual([{ top1: 0.5 }]);
    expect(() => writeEvalResult(run, result({ partial: true }))).toThrow(
      /a partial result must carry its limit in the variant/,
    );
    writeEvalResult(run, result({ partial: true, variant: 'limit100', metrics: { top1: 0.1 } }));
    expect(readEvalResults(run).map(evalResultName)).toEqual([
      'knn-cifar10',
      'knn-cifar10.limit100',
    ]);
    expect(readEvalResults(run)[0].metrics).toEqual({ top1: 0.5 }); // the full one untouched
  });

  it('returns [] without an eval folder', () => {
    expect(readEvalResults(tempRun())).toEqual([]);
  });

  it('enforces the proxy naming rule both ways', () => {
    expect(isProxyName('retrieval-fmnist-retrieval-proxy')).toBe(true);
    expect(isProxyName('retrieval-roxford5k')).toBe(false);
    expect(() => checkEvalResult(result({ dataset: 'fashion-mnist', proxy: true }))).toThrow(
      /a proxy result must say "proxy" in its name.*'knn-fashion-mnist'/,
    );
    expect(() => checkEvalResult(result({ dataset: 'fmnist-knn-proxy', proxy: false }))).toThrow(
      /says "proxy" but the result has proxy: false/,
    );
    const run = tempRun();
    expect(() => writeEvalResult(run, result({ dataset: 'voc2007', proxy: true }))).toThrow(
      /writeEvalResult\(knn-voc2007\)/,
    );
  });

  it('rejects bad fields, naming them', () => {
    expect(() => checkEvalResult(result({ dataset: 'a/b' }))).toThrow(/field 'dataset'/);
    expect(() => checkEvalResult(result({ splits: { train: -1 } }))).toThrow(
      /field 'splits.train' must be a non-negative integer/,
    );
    expect(() => checkEvalResult(result({ seconds: Number.NaN }))).toThrow(/field 'seconds'/);
    expect(() => checkEvalResult(result({ createdAt: 'yesterday' }))).toThrow(/field 'createdAt'/);
    expect(() => checkEvalResult({ ...result(), proxy: 'no' })).toThrow(/field 'proxy'/);
    expect(() => checkEvalResult({ ...result(), weights: 3 })).toThrow(/field 'weights'/);
    expect(() => checkEvalResult({ ...result(), checkpointKeys: {} })).toThrow(
      /field 'checkpointKeys'/,
    );
    expect(() => checkEvalResult(result({ variant: 'a/b' }))).toThrow(/field 'variant'/);
  });

  it('createEvalResult stamps the time and checks', () => {
    const r = createEvalResult({ ...result(), createdAt: undefined });
    expect(Date.parse(r.createdAt)).toBeGreaterThan(0);
    expect(() => createEvalResult({ ...result(), proxy: true })).toThrow(/proxy/);
  });

  it('reading rejects invalid files and files whose name does not match their record', () => {
    const run = tempRun();
    writeEvalResult(run, result());
    const dir = join(run, 'eval');
    writeFileSync(join(dir, 'linear-imagenet.json'), JSON.stringify(result()));
    expect(() => readEvalResults(run)).toThrow(
      /eval\/linear-imagenet.json: holds the result 'knn-cifar10'/,
    );
    writeFileSync(join(dir, 'linear-imagenet.json'), '{');
    expect(() => readEvalResults(run)).toThrow(/linear-imagenet.json: not valid JSON/);
    writeFileSync(
      join(dir, 'linear-imagenet.json'),
      JSON.stringify({ ...result({ protocol: 'linear', dataset: 'imagenet' }), proxy: 1 }),
    );
    expect(() => readEvalResults(run)).toThrow(/linear-imagenet.json: field 'proxy'/);
  });
});
