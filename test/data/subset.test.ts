/**
 * `limit` on a class-sorted prepared folder (the layout that made "first N" pick a few
 * classes): a seeded, class-stratified subset with every class present, per-class counts
 * by largest remainders (worked by hand below), rows in ascending order, the same rows
 * for the same seed, and a `subset` record on the source.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { materialize, openDataset } from '../../src/data/datasets';
import { writePrepared } from '../../src/data/prepared';
import { limitSource, quotas, stratifiedIndices } from '../../src/data/subset';
import { memorySource } from '../../src/data/source';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-subset-'));
const SIZES = [5, 15, 30, 50]; // class-sorted: 5 images of class 0, then 15 of class 1, …
let previous: string | undefined;

function classSorted(labelDim = 1) {
  const count = SIZES.reduce((a, b) => a + b, 0);
  const labels = new Int32Array(count * labelDim);
  let i = 0;
  SIZES.forEach((n, c) => {
    for (let j = 0; j < n; j++, i++) labels[i * labelDim] = c;
  });
  // Pixel value = image index, so the rows read back identify the images chosen.
  const images = new Uint8Array(count * 4).map((_, p) => Math.floor(p / 4));
  return {
    name: 'sorted',
    split: 'train',
    count,
    height: 2,
    width: 2,
    channels: 1,
    images,
    labels,
    classes: ['a', 'b', 'c', 'd'],
    labelDim,
  };
}

beforeAll(() => {
  writePrepared(path.join(root, 'sorted', 'train'), classSorted());
  previous = process.env.CARP_DATA_DIR;
  process.env.CARP_DATA_DIR = root;
});
afterAll(() => {
  if (previous === undefined) delete process.env.CARP_DATA_DIR;
  else process.env.CARP_DATA_DIR = previous;
  fs.rmSync(root, { recursive: true, force: true });
});

describe('limit: seeded class-stratified subset', () => {
  it('quotas: largest remainders, at least one per class (worked by hand)', () => {
    // 12 of [5, 15, 30, 50]: exact [0.6, 1.8, 3.6, 6], floors [0, 1, 3, 6], the 2 left go to
    // the remainders 0.8 (class 1) and 0.6 (class 0 before class 2).
    expect(quotas(SIZES, 12)).toEqual([1, 2, 3, 6]);
    // 10 of [1, 99]: [0, 10] by remainders, then class 0 gets one from class 1.
    expect(quotas([1, 99], 10)).toEqual([1, 9]);
    // Fewer images than classes: no minimum.
    expect(quotas([5, 15, 30, 50], 2)).toEqual([0, 0, 1, 1]);
  });

  it('every class present, counts proportional, rows ascending, recorded on the source', async () => {
    const s = await openDataset('sorted', 'train', { limit: 12 });
    try {
      expect(s.count).toBe(12);
      expect(s.subset).toEqual({ count: 12, of: 100, seed: 0, rule: 'class-stratified' });
      const counts = [0, 1, 2, 3].map((c) => s.labels.filter((y) => y === c).length);
      expect(counts).toEqual([1, 2, 3, 6]);
      const d = await materialize(s);
      const ids = Array.from({ length: 12 }, (_, k) => d.images[k * 4]);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      // Each row's label is the label of the image it reads.
      ids.forEach((id, k) => expect(s.labels[k]).toBe(id < 5 ? 0 : id < 20 ? 1 : id < 50 ? 2 : 3));
    } finally {
      await s.close();
    }
  });

  it('deterministic: the same rows for the same seed, others for another seed', async () => {
    const rows = async (seed?: number) => {
      const s = await openDataset('sorted', 'train', { limit: 12, seed });
      const d = await materialize(s);
      await s.close();
      return Array.from({ length: 12 }, (_, k) => d.images[k * 4]);
    };
    const a = await rows();
    expect(await rows()).toEqual(a);
    expect(await rows(0)).toEqual(a);
    expect(await rows(7)).not.toEqual(a);
  });

  it('multi-label sources get a seeded random subset; a limit ≥ count keeps the source', () => {
    const multi = memorySource(classSorted(2));
    const s = limitSource(multi, 10, 3);
    expect(s.subset).toEqual({ count: 10, of: 100, seed: 3, rule: 'random' });
    expect(s.labels.length).toBe(20);
    expect(limitSource(multi, 100)).toBe(multi);
    expect(() => limitSource(multi, 0)).toThrow(/limit must be a positive integer, got 0/);
  });

  it('exact rows on a hand-made interleaved source (worked by hand)', () => {
    // Class 0 at rows {1, 5}, class 1 at {2, 6, 10}, class 2 at {0, 3, 4, 7, 8, 9, 11}.
    const labels = Int32Array.from([2, 0, 1, 2, 2, 0, 1, 2, 2, 2, 1, 2]);
    // 6 of [2, 3, 7]: exact [1, 1.5, 3.5], floors [1, 1, 3]; the one left goes to the
    // tied remainders 0.5 of classes 1 and 2, lower class first: [1, 2, 3].
    expect(quotas([2, 3, 7], 6)).toEqual([1, 2, 3]);
    // Seed 0's stream gives the class permutations in class order: [1, 0], [0, 2, 1],
    // [3, 6, 1, 5, 0, 4, 2] (src/random.ts). Class 0 takes member 1 (row 5), class 1
    // members 0 and 2 (rows 2, 10), class 2 members 3, 6, 1 (rows 7, 11, 3).
    expect(Array.from(stratifiedIndices(labels, 6, 0))).toEqual([2, 3, 5, 7, 10, 11]);
  });
});
