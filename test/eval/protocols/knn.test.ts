import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { evalSplits } from '../../../src/data/datasets';
import { KNN_DEFAULTS, runKnn, runPixelKnn } from '../../../src/eval/protocols/knn';
import { readEvalResults } from '../../../src/eval/results';
import { createRng } from '../../../src/random';
import { resolveConfig } from '../../../src/config/resolve';
import { randomInitTeacher } from '../../../src/train/randomTeacher';
import { initTestBackend } from '../../helpers/tensors';
import { syntheticImage, tempDirs, TINY_RGB_OVERRIDES, writePreparedSplit } from './fixtures';

/**
 * Width 8 with the CIFAR stem (64-d features): the width-2 ImageNet-stem fixture's random
 * features are mostly zero at 32 px, so distinct images tie and "nearest" is arbitrary.
 */
const teacherOf = () =>
  randomInitTeacher(
    resolveConfig('fmnist-tiny', [...TINY_RGB_OVERRIDES, 'model.width=8', 'model.cifarStem=true']),
  );

const saved = process.env.CARP_DATA_DIR;

/**
 * `blobs/{train,test}`: 4 classes × 6 distinct 32-px images; the test split holds the very
 * same images as train (in another order), so every query's nearest neighbour is its own
 * copy: k = 1 must give top-1 = 1 whatever the network, an answer known in advance.
 */
function writeTwinSplits(dataDir: string): void {
  const rng = createRng(3);
  const images = Array.from({ length: 24 }, () => syntheticImage(32, 32, rng));
  const labels = Int32Array.from({ length: 24 }, (_, i) => i % 4);
  const classes = ['a', 'b', 'c', 'd'];
  writePreparedSplit(dataDir, 'blobs', 'train', images, labels, { classes });
  const order = Array.from({ length: 24 }, (_, i) => (i * 7) % 24);
  writePreparedSplit(
    dataDir,
    'blobs',
    'test',
    order.map((i) => images[i]),
    Int32Array.from(order, (i) => labels[i]),
    { classes },
  );
}

describe('weighted k-NN protocol (§9.2)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('wiring: bank = train, queries = test; k = 1 on twin splits is exactly 1; settings are the values used', async () => {
    const { dataDir, runDir } = tempDirs('knn');
    writeTwinSplits(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = teacherOf();
    const ctx = { teacher, runDir, dataset: 'blobs', transfer: true };
    const r = await runKnn(ctx, { k: [1, 24] });
    expect(r.splits).toEqual({ train: 24, test: 24 });
    expect(r.metrics['1']).toEqual({ top1: 1, top5: 1 });
    // k = 24 = the whole bank: every class gets 6 votes; top-5 holds all 4 classes.
    expect(r.metrics['24'].top5).toBe(1);
    expect(r.predictions['1']).toEqual(
      Int32Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) % 4),
    );
    expect(r.settings).toMatchObject({ k: [1, 24], temperature: 0.07, filter: 'bicubic', dim: 64 });
    // Queries are the bank's images in another order: each one's nearest is its twin.
    expect(r.queryLabels).toEqual(Int32Array.from({ length: 24 }, (_, i) => ((i * 7) % 24) % 4));
    expect(r.classes).toEqual(['a', 'b', 'c', 'd']);
    expect(r.nearest([0, 1, 5], 1)).toEqual([[0], [7], [11]]);
    expect(r.nearest([2], 3)[0]).toHaveLength(3);
    expect(() => r.nearest([24], 1)).toThrow(/query 24 outside \[0, 24\)/);
    // The gallery's images: query 1 is bank image 7, its twin (the same pixels).
    const g = await r.neighbours([1, 5], 2);
    expect(g.ranking).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(g.queries.count).toBe(2);
    expect(g.bank.count).toBe(4);
    const size = g.queries.height * g.queries.width * g.queries.channels;
    expect(g.bank.images.subarray(0, size)).toEqual(g.queries.images.subarray(0, size));
    expect(g.bank.images.subarray(2 * size, 3 * size)).toEqual(g.queries.images.subarray(size));
    expect(Array.from(g.queries.labels)).toEqual([r.queryLabels[1], r.queryLabels[5]]);
    expect(g.bank.labels[0]).toBe(r.queryLabels[1]);
    // Non-default k: its own variant, not the canonical file.
    expect(r.variant).toMatch(/^ck-random-init-seed\d+\.s[0-9a-f]{8}$/);
    expect(existsSync(join(runDir, 'eval', `knn-blobs.${r.variant}.json`))).toBe(true);
    // Cached features are reused (one folder per split), and the same numbers come back.
    expect(readdirSync(join(runDir, 'features'))).toHaveLength(2);
    const again = await runKnn(ctx, { k: [1, 24] });
    expect(again.metrics).toEqual(r.metrics);
    expect(readdirSync(join(runDir, 'eval', 'history'))).toHaveLength(1);
    teacher.params.dispose();
  });

  it('raw pixels: cosine of the [0, 1] pixel vectors, exp(s/τ) votes (hand-worked, 1×1 RGB images)', async () => {
    const { dataDir } = tempDirs('knn-pixels');
    const px = (r: number, g: number, b: number) => ({
      data: Uint8Array.from([r, g, b]),
      height: 1,
      width: 1,
      channels: 3,
    });
    const classes = ['a', 'b'];
    // Bank: b0 (1,0,0) a, b1 (0,1,0) b, b2 (1,1,0) b, b3 (1,0,1) a.
    writePreparedSplit(
      dataDir,
      'pixels',
      'train',
      [px(255, 0, 0), px(0, 255, 0), px(255, 255, 0), px(255, 0, 255)],
      Int32Array.from([0, 1, 1, 0]),
      { classes },
    );
    // q0 (1, .2, 0), true a: cosines b0 .98058, b2 .83205, b3 .69338, b1 .19612
    //   → k 1: a; k 3: a (e^(.98058/τ) + e^(.69338/τ) > e^(.83205/τ)).
    // q1 (.2, 1, 0), true b: b1 .98058, b2 .83205, b0 .19612, b3 .13868 → b, b.
    // q2 (1, 0, .8), true b: b3 .99388, b0 .78087, b2 .55216, b1 0 → a, a (wrong);
    //   with k 3 class b got a vote (b2), so it is among the best min(5, 3) voted classes.
    writePreparedSplit(
      dataDir,
      'pixels',
      'test',
      [px(255, 51, 0), px(51, 255, 0), px(255, 0, 204)],
      Int32Array.from([0, 1, 1]),
      { classes },
    );
    process.env.CARP_DATA_DIR = dataDir;
    const r = await runPixelKnn({ dataset: 'pixels' }, { k: [1, 3] });
    expect(r.splits).toEqual({ train: 4, test: 3 });
    expect(r.settings).toEqual({ k: [1, 3], temperature: 0.07, dim: 3 });
    expect(Array.from(r.predictions['1'])).toEqual([0, 1, 0]);
    expect(Array.from(r.predictions['3'])).toEqual([0, 1, 0]);
    expect(r.metrics['1']).toEqual({ top1: 2 / 3, top5: 2 / 3 });
    expect(r.metrics['3']).toEqual({ top1: 2 / 3, top5: 1 });
    expect(readdirSync(dataDir)).toEqual(['pixels']); // nothing written
    await expect(runPixelKnn({ dataset: 'pixels' }, { filter: 'box' } as never)).rejects.toThrow(
      /knn: unknown option 'filter'/,
    );
  });

  it('defaults are the reference’s four k and τ 0.07', () => {
    expect(KNN_DEFAULTS).toEqual({ k: [10, 20, 100, 200], temperature: 0.07, filter: 'bicubic' });
  });

  it('a partial run (limit) is filed under its own name and never replaces the full one', async () => {
    const { dataDir, runDir } = tempDirs('knn-limit');
    writeTwinSplits(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const teacher = teacherOf();
    const full = await runKnn({ teacher, runDir, dataset: 'blobs', transfer: true }, { k: [1] });
    const part = await runKnn(
      { teacher, runDir, dataset: 'blobs', transfer: true, limit: 8 },
      { k: [1] },
    );
    expect(part.partial).toBe(true);
    expect(part.variant.endsWith('limit8')).toBe(true);
    expect(full.partial).toBe(false);
    expect(
      readEvalResults(runDir)
        .map((e) => e.variant)
        .sort(),
    ).toEqual([full.variant, part.variant].sort());
    teacher.params.dispose();
  });

  it('evalSplits: trainval/val where prepared, train/test otherwise (§9.2 table)', () => {
    const root = mkdtempSync(join(tmpdir(), 'splits-'));
    process.env.CARP_DATA_DIR = root;
    for (const [ds, split] of [
      ['imagenet', 'train'],
      ['imagenet', 'val'],
      ['pets', 'trainval'],
      ['pets', 'test'],
    ]) {
      mkdirSync(join(root, ds, split), { recursive: true });
      writeFileSync(join(root, ds, split, 'manifest.json'), '{}');
    }
    expect(evalSplits('imagenet')).toEqual({ bank: 'train', query: 'val' });
    expect(evalSplits('pets')).toEqual({ bank: 'trainval', query: 'test' });
    expect(evalSplits('fashion-mnist')).toEqual({ bank: 'train', query: 'test' });
  });
});
