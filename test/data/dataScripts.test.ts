import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR_FILES, CIFAR_SPEC, prepareCifar } from '../../data-scripts/cifar';
import {
  FASHION_MNIST_FILES,
  FASHION_MNIST_SPEC,
  prepareFashionMnist,
} from '../../data-scripts/fashionMnist';
import { INAT2018_SPEC } from '../../data-scripts/inat2018';
import { loadFashionMnist } from '../../src/data/fashionMnist';
import { parseArgs, ScriptUsageError } from '../../data-scripts/lib/common';
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
      CIFAR_SPEC,
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
      CIFAR_SPEC,
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

  it("parses common options and the script's own; rejects unknown options and bad values by name", () => {
    const o = parseArgs(
      [
        '--data-dir',
        '/x',
        '--force',
        '--filter',
        'bilinear',
        '--k',
        '4',
        '--seed=0',
        '--checkpoint-seconds',
        '30',
      ],
      INAT2018_SPEC,
    );
    expect([o.dataDir, o.force, o.filter, o.extra, o.help, o.checkpointSeconds]).toEqual([
      '/x',
      true,
      'bilinear',
      { k: '4', seed: '0' },
      false,
      30,
    ]);
    expect(parseArgs([], INAT2018_SPEC).checkpointSeconds).toBe(10);
    expect(parseArgs(['-h'], INAT2018_SPEC).help).toBe(true);
    const bad: [string[], string][] = [
      [['--filter', 'cubic'], "--filter must be bilinear, bicubic, lanczos, box, got 'cubic'"],
      [['stray'], "unexpected argument 'stray'"],
      [
        ['--unlabeled'],
        'unknown option --unlabeled (valid: --k, --seed, --data-dir, --skip-download, --force, --checkpoint-seconds, --mirror, --filter, --help)',
      ],
      [['--k', '0'], "--k must be an integer ≥ 1, got '0'"],
      [['--k', '1.5'], "--k must be an integer ≥ 1, got '1.5'"],
      [['--seed'], '--seed needs a value (S)'],
      [['--k', '--force'], '--k needs a value (K)'],
      [['--force=yes'], '--force takes no value'],
      [
        ['--constructor'],
        'unknown option --constructor (valid: --k, --seed, --data-dir, --skip-download, --force, --checkpoint-seconds, --mirror, --filter, --help)',
      ],
    ];
    for (const [argv, message] of bad) {
      expect(() => parseArgs(argv, INAT2018_SPEC), argv.join(' ')).toThrow(
        new ScriptUsageError(message),
      );
    }
  });

  it('every script: --help prints its options and touches nothing; bad options exit 2 by name', async () => {
    const scripts = fs
      .readdirSync('data-scripts')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(scripts).toHaveLength(16);
    const dataDir = path.join(tmp, 'help-data');
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', ...args], {
          env: { ...process.env, CARP_DATA_DIR: dataDir },
        });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const results = await Promise.all(
      scripts.flatMap((s) => [
        run([`data-scripts/${s}.ts`, '--help']),
        run([`data-scripts/${s}.ts`, '--bogus']),
      ]),
    );
    scripts.forEach((s, k) => {
      const [help, bogus] = [results[2 * k], results[2 * k + 1]];
      expect(help.code, s).toBe(0);
      expect(help.stderr, s).toBe('');
      expect(help.stdout.startsWith(`usage: npx tsx data-scripts/${s}.ts [options]\n\n`), s).toBe(
        true,
      );
      expect(help.stdout).toContain('\n  --help ');
      expect(help.stdout).toContain('exit status: 0 done, 1 failed (named file or URL), 2 usage\n');
      expect(bogus.code, s).toBe(2);
      expect(bogus.stdout, s).toBe('');
      expect(bogus.stderr, s).toMatch(/^[a-z0-9-]+: unknown option --bogus \(valid: .*--help\)\n$/);
    });
    expect(fs.existsSync(dataDir)).toBe(false);
  }, 300_000); // 32 tsx start-ups on a loaded 2-core machine

  it('fashion-mnist: downloads from a loopback mirror, verifies the content SHA-256, converts', async () => {
    const debian = '/usr/share/datasets/fashion-mnist';
    // Files made from Debian's copy; one recompressed, as another faithful copy would be.
    for (const f of FASHION_MNIST_FILES)
      fs.copyFileSync(path.join(debian, f.file), path.join(tmp, f.file));
    const labels = path.join(tmp, 'train-labels-idx1-ubyte.gz');
    fs.writeFileSync(labels, zlib.gzipSync(zlib.gunzipSync(fs.readFileSync(labels)), { level: 1 }));
    const dataDir = path.join(tmp, 'fmnist-data');
    const o = parseArgs(['--data-dir', dataDir, '--mirror', mirror], FASHION_MNIST_SPEC, () => {});
    const before = requests.length;
    await prepareFashionMnist(o);
    expect(requests.slice(before).sort()).toEqual(
      FASHION_MNIST_FILES.map((f) => `/${f.file}`).sort(),
    );
    for (const [split, count] of [
      ['train', 60000],
      ['test', 10000],
    ] as const) {
      const p = readPrepared(path.join(dataDir, 'fashion-mnist', split), { verify: true });
      const ref = loadFashionMnist(split);
      expect([p.count, p.height, p.width, p.channels]).toEqual([count, 28, 28, 1]);
      expect(Buffer.from(p.labels.buffer).equals(Buffer.from(ref.labels.buffer))).toBe(true);
      expect(Buffer.from(p.images).equals(Buffer.from(ref.images))).toBe(true);
    }
    // A wrong file (one label changed) is refused by name and removed.
    const bad = path.join(tmp, 'fmnist-bad');
    const content = zlib.gunzipSync(
      fs.readFileSync(path.join(debian, 't10k-labels-idx1-ubyte.gz')),
    );
    content[8] ^= 1;
    const badFile = path.join(bad, 'downloads', 't10k-labels-idx1-ubyte.gz');
    fs.mkdirSync(path.dirname(badFile), { recursive: true });
    fs.writeFileSync(badFile, zlib.gzipSync(content));
    const ob = parseArgs(['--data-dir', bad, '--mirror', mirror], FASHION_MNIST_SPEC, () => {});
    const got = crypto.createHash('sha256').update(content).digest('hex');
    await expect(prepareFashionMnist(ob)).rejects.toThrow(
      `${badFile}: decompressed 10008 bytes with sha256 ${got}, expected 10008 bytes with sha256 ` +
        '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34 (corrupt or wrong file); removed it',
    );
    expect(fs.existsSync(badFile)).toBe(false);
    expect(fs.existsSync(path.join(bad, 'fashion-mnist'))).toBe(false);
  });

  it('iNat low-shot subset: k per class, deterministic per seed', () => {
    const pairs: [string, number][] = Array.from({ length: 30 }, (_, i) => [`f${i}`, i % 3]);
    const a = lowShotSubset(pairs, 2, 0);
    expect(a.map((p) => p[1])).toEqual([0, 0, 1, 1, 2, 2]);
    expect(lowShotSubset(pairs, 2, 0)).toEqual(a);
    expect(lowShotSubset(pairs, 2, 1)).not.toEqual(a);
  });
});
