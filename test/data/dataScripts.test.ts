import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR_FILES, prepareCifar } from '../../data-scripts/cifar';
import { parseArgs } from '../../data-scripts/lib/common';
import { lowShotSubset } from '../../data-scripts/inat2018';
import { readPrepared } from '../../src/data/preparedRead';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-ds-'));
let server: http.Server;
let mirror = '';
const requests: string[] = [];

beforeAll(async () => {
  // A CIFAR-10 binary archive in the original layout, 3 test + 5×2 train records.
  const src = path.join(tmp, 'src', 'cifar-10-batches-bin');
  fs.mkdirSync(src, { recursive: true });
  const rec = (y: number) => Buffer.concat([Buffer.from([y]), Buffer.alloc(3072, y * 20)]);
  for (let i = 1; i <= 5; i++)
    fs.writeFileSync(path.join(src, `data_batch_${i}.bin`), Buffer.concat([rec(i), rec(0)]));
  fs.writeFileSync(path.join(src, 'test_batch.bin'), Buffer.concat([rec(7), rec(8), rec(9)]));
  fs.writeFileSync(path.join(src, 'batches.meta.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n');
  const r = spawnSync('tar', [
    '-czf',
    path.join(tmp, 'cifar-10-binary.tar.gz'),
    '-C',
    path.join(tmp, 'src'),
    'cifar-10-batches-bin',
  ]);
  expect(r.status).toBe(0);
  server = http.createServer((req, res) => {
    requests.push(req.url!);
    const f = path.join(tmp, path.basename(req.url!));
    if (!fs.existsSync(f)) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { 'content-length': fs.statSync(f).size });
    fs.createReadStream(f).pipe(res);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('data scripts', () => {
  it('cifar: download from a mirror, verify, extract, convert; then skip what is done', async () => {
    const md5 = crypto
      .createHash('md5')
      .update(fs.readFileSync(path.join(tmp, 'cifar-10-binary.tar.gz')))
      .digest('hex');
    const files = {
      ...CIFAR_FILES,
      cifar10: { ...CIFAR_FILES.cifar10, checksum: { algorithm: 'md5' as const, hex: md5 } },
    };
    const logs: string[] = [];
    const o = parseArgs(
      ['--data-dir', path.join(tmp, 'data'), '--mirror', mirror, '--which', 'cifar10'],
      (m) => logs.push(m),
    );
    await prepareCifar(o, files);
    expect(requests).toEqual(['/cifar-10-binary.tar.gz']);
    const test = readPrepared(path.join(tmp, 'data', 'cifar10', 'test'), { verify: true });
    expect(Array.from(test.labels)).toEqual([7, 8, 9]);
    expect(readPrepared(path.join(tmp, 'data', 'cifar10', 'train')).count).toBe(10);
    // second run: nothing fetched, nothing rebuilt
    logs.length = 0;
    await prepareCifar(o, files);
    expect(requests.length).toBe(1);
    expect(logs.filter((l) => l.includes('already')).length).toBe(4);
    // offline with the archive in place: verified, no request
    await prepareCifar({ ...o, skipDownload: true, force: true }, files);
    expect(requests.length).toBe(1);
  });

  it('cifar: the published checksum rejects a wrong archive and leaves no output', async () => {
    const o = parseArgs(
      ['--data-dir', path.join(tmp, 'data2'), '--mirror', mirror, '--which', 'cifar10'],
      () => {},
    );
    await expect(prepareCifar(o)).rejects.toThrow(
      /cifar-10-binary\.tar\.gz\.part: md5 is [0-9a-f]+, expected c32a1d4ab5d03f1284b67883e8d87530/,
    );
    expect(fs.existsSync(path.join(tmp, 'data2', 'cifar10'))).toBe(false);
    expect(fs.readdirSync(path.join(tmp, 'data2', 'downloads'))).toEqual([]);
    await expect(prepareCifar({ ...o, mirror: undefined, skipDownload: true })).rejects.toThrow(
      /cifar-10-binary\.tar\.gz is missing\. Download https:\/\/www\.cs\.toronto\.edu/,
    );
  });

  it('parses common options and rejects bad ones', () => {
    const o = parseArgs([
      '--data-dir',
      '/x',
      '--force',
      '--filter',
      'bilinear',
      '--k',
      '4',
      '--unlabeled',
    ]);
    expect([o.dataDir, o.force, o.filter, o.extra.k, o.extra.unlabeled]).toEqual([
      '/x',
      true,
      'bilinear',
      '4',
      'true',
    ]);
    expect(() => parseArgs(['--filter', 'cubic'])).toThrow(/--filter must be/);
    expect(() => parseArgs(['stray'])).toThrow(/unexpected argument 'stray'/);
  });

  it('iNat low-shot subset: k per class, deterministic per seed', () => {
    const pairs: [string, number][] = Array.from({ length: 30 }, (_, i) => [`f${i}`, i % 3]);
    const a = lowShotSubset(pairs, 2, 0);
    expect(a.map((p) => p[1])).toEqual([0, 0, 1, 1, 2, 2]);
    expect(lowShotSubset(pairs, 2, 0)).toEqual(a);
    expect(lowShotSubset(pairs, 2, 1)).not.toEqual(a);
  });
});
