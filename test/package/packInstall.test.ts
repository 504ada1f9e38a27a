/**
 * The npm package round trip: build the library from the current sources, `npm pack` it
 * with the repository's package.json (its `files`, `exports`, `bin`, install step), install
 * the tarball into an empty project with the registry as the only network source (no
 * GitHub), and use it there as a user would: require, ESM import, a strict TypeScript
 * check of named imports, `npx carp`, and a small real computation on faiss and on the
 * exact fallback. Takes a few minutes (the install compiles the two native parts).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const work = mkdtempSync(join(tmpdir(), 'carp-pack-'));
const stage = join(work, 'stage');
const consumer = join(work, 'consumer');
let tarball = '';
let installLog = '';

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  // The package's file list as npm computes it from package.json (`files`), minus dist/,
  // which is built fresh from the current sources into the staging copy.
  const listed = JSON.parse(
    ok(run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT), 'npm pack --dry-run'),
  ) as { files: { path: string }[] }[];
  for (const { path } of listed[0].files) {
    if (path.startsWith('dist/')) continue;
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    cpSync(join(ROOT, path), join(stage, path));
  }
  ok(
    run(
      process.execPath,
      [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')],
      ROOT,
    ),
    'tsc',
  );
  const packed = JSON.parse(
    ok(
      run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], stage),
      'npm pack',
    ),
  ) as { filename: string; size: number }[];
  tarball = join(work, packed[0].filename);

  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  const typesNode = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    }
  ).devDependencies['@types/node'];
  const started = Date.now();
  installLog = ok(
    run(
      'npm',
      [
        'install',
        tarball,
        `@types/node@${typesNode}`,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--foreground-scripts',
      ],
      consumer,
    ),
    'npm install',
  );
  process.stdout.write(
    `[pack] ${packed[0].filename}: ${packed[0].size} bytes; install ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const nodeIn = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, args, consumer, env);

describe('npm pack → npm install in an empty project', () => {
  it('the install step built the faiss binding and the native kernels, without the repo set-up', () => {
    expect(installLog).toMatch(/\[faiss\] faiss binding built: build\/faiss\/faiss_node\.node/);
    expect(installLog).toMatch(/\[native\] native kernels built: build\/native\/carp_native\.node/);
    const installed = join(consumer, 'node_modules', 'carp-kit');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    // The repository's notebook link (node_modules/carp-kit -> ..) is not made in a consumer.
    expect(existsSync(join(installed, 'node_modules', 'carp-kit'))).toBe(false);
  });

  it('no dependency with an install script besides carp-kit and core-js (a banner)', () => {
    const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const scripted = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path);
    expect(scripted.sort()).toEqual(['node_modules/carp-kit', 'node_modules/core-js']);
  });

  it('require(): the whole API, search on faiss', () => {
    const out = ok(
      nodeIn([
        '-e',
        "const k = require('carp-kit'); console.log(JSON.stringify([typeof k.FlatIndex, typeof k.pretrain, k.searchEngine()]))",
      ]),
      'require',
    );
    expect(JSON.parse(out)).toEqual(['function', 'function', { engine: 'faiss' }]);
  });

  it('ESM import of named exports and of package.json; the wasm backend runs a tfjs op', () => {
    writeFileSync(
      join(consumer, 'esm.mjs'),
      `import { tf, selectBackend, resolveConfig } from 'carp-kit';
import pkg from 'carp-kit/package.json' with { type: 'json' };
const b = await selectBackend({ log: () => {} });
const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
console.log(JSON.stringify([pkg.name, b.backend, y, resolveConfig('fmnist-tiny').train.batchSize]));
`,
    );
    expect(JSON.parse(ok(nodeIn(['esm.mjs']), 'esm'))).toEqual(['carp-kit', 'wasm', 11, 32]);
  });

  it('TypeScript (strict, nodenext) type-checks named imports against the shipped types', () => {
    writeFileSync(
      join(consumer, 'check.ts'),
      `import { FlatIndex, kmeansFaiss, resolveConfig, type CarpConfig, type SearchResult } from 'carp-kit';
const c: CarpConfig = resolveConfig('paper-imagenet-r50');
const r: SearchResult = new FlatIndex(3, 'l2').search(new Float32Array(3), 1);
const objective: number = kmeansFaiss(new Float32Array(6), 2, 3, { k: 1 }).objective;
// @ts-expect-error: the metric is 'ip' | 'l2' (an untyped package would let this through)
new FlatIndex(3, 'cosine');
export const out = [c.preset, r.k, objective];
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
        },
        files: ['check.ts'],
      }),
    );
    ok(nodeIn([TSC, '-p', 'tsconfig.json']), 'tsc in the consumer');
  });

  it('npx carp --help and carp export-config', () => {
    const help = ok(run('npx', ['--no-install', 'carp', '--help'], consumer), 'carp --help');
    expect(help).toContain('export-config');
    const line = ok(
      run(
        'npx',
        [
          '--no-install',
          'carp',
          'export-config',
          '--format',
          'official',
          '--preset',
          'paper-imagenet-r50',
          '--nproc-per-node',
          '4',
          '--data-path',
          '/data/train',
        ],
        consumer,
      ),
      'carp export-config',
    );
    expect(line).toMatch(
      /^torchrun --nproc_per_node=4 main_carp\.py --arch resnet50 .* --data_path \/data\/train /,
    );
  });

  it('a small k-NN and k-means, on faiss and on the exact fallback (CARP_FAISS=0)', () => {
    const script = `
      const { FlatIndex, kmeansFaiss, searchEngine } = require('carp-kit');
      const index = new FlatIndex(2, 'l2');
      index.add(Float32Array.of(0, 0, 10, 0, 0, 10, 10, 10));
      const r = index.search(Float32Array.of(9, 2, 1, 8), 2);
      const pts = Float32Array.of(0, 0, 0, 1, 1, 0, 20, 20, 20, 21, 21, 20);
      const km = kmeansFaiss(pts, 6, 2, { k: 2, niter: 5, minPointsPerCentroid: 1 });
      const c = Array.from(km.centroids).map((v) => Math.round(v * 1000) / 1000);
      console.log(JSON.stringify({ engine: searchEngine().engine, labels: Array.from(r.labels), d: Array.from(r.distances), c: c[0] < 10 ? c : [...c.slice(2), ...c.slice(0, 2)], obj: km.objective }));`;
    // Nearest of (9,2): (10,0) at 1+4 = 5, then (10,10) at 1+64 = 65; of (1,8): (0,10) at
    // 1+4 = 5, then (0,0) at 1+64 = 65. k-means: the blob means (1/3, 1/3) and
    // (20 1/3, 20 1/3); each blob adds 2/9 + 5/9 + 5/9 = 4/3 to the objective: 8/3.
    const want = {
      labels: [1, 3, 2, 0],
      d: [5, 65, 5, 65],
      c: [0.333, 0.333, 20.333, 20.333],
    };
    for (const flag of ['1', '0']) {
      const r = nodeIn(['-e', script], { CARP_FAISS: flag });
      const got = JSON.parse(ok(r, `CARP_FAISS=${flag}`)) as typeof want & {
        engine: string;
        obj: number;
      };
      expect(got.engine).toBe(flag === '1' ? 'faiss' : 'exact-openblas');
      expect({ labels: got.labels, d: got.d, c: got.c }).toEqual(want);
      // float32 ‖x‖² + ‖c‖² − 2·x·c with ‖x‖² ≈ 800 leaves ~1e-4 of round-off.
      expect(got.obj).toBeCloseTo(8 / 3, 3);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'));
      expect(warnings).toEqual(
        flag === '1'
          ? []
          : [
              'carp-kit: warning: faiss binding disabled by CARP_FAISS=0; k-NN and k-means use the exact fallback on the native OpenBLAS addon',
            ],
      );
    }
  });
});
