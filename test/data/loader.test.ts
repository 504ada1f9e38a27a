import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { ImageDataset } from '../../src/data/dataset';
import { DataLoader, batchToTensor, epochSeed } from '../../src/data/loader';
import { writePrepared } from '../../src/data/prepared';
import { openPrepared } from '../../src/data/preparedRead';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';

beforeAll(() => initTestBackend('cpu'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-loader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Image i is filled with the value i, label = i (so batches can be checked by value). */
function ds(count: number): ImageDataset {
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < count; i++) images.fill(i, i * 4, i * 4 + 4);
  return {
    name: 'ids',
    split: 'train',
    count,
    height: 2,
    width: 2,
    channels: 1,
    images,
    labels: Int32Array.from({ length: count }, (_, i) => i),
    classes: Array.from({ length: count }, (_, i) => `c${i}`),
  };
}

async function collect(it: AsyncGenerator<{ indices: Int32Array }>, n: number) {
  const out: number[][] = [];
  for await (const b of it) {
    out.push(Array.from(b.indices));
    if (out.length === n) break;
  }
  return out;
}

describe('DataLoader', () => {
  it('drops the last incomplete batch and covers each epoch once', async () => {
    const l = new DataLoader(ds(10), { batchSize: 3, seed: 1 });
    expect(l.batchesPerEpoch).toBe(3);
    const seen: number[] = [];
    for await (const b of l.batches({ endEpoch: 1 })) {
      expect(b.size).toBe(3);
      // images and labels match the indices
      expect(Array.from(b.labels)).toEqual(Array.from(b.indices));
      expect(Array.from(b.images.subarray(0, 4))).toEqual([
        b.indices[0],
        b.indices[0],
        b.indices[0],
        b.indices[0],
      ]);
      seen.push(...b.indices);
    }
    expect(seen.length).toBe(9);
    expect(new Set(seen).size).toBe(9);
    expect(new DataLoader(ds(10), { batchSize: 3, seed: 1, dropLast: false }).batchesPerEpoch).toBe(
      4,
    );
    expect(() => new DataLoader(ds(2), { batchSize: 3, seed: 1 })).toThrow(/no full batch/);
  });

  it('is deterministic per seed, reshuffles per epoch, and resumes without replay', async () => {
    const a = new DataLoader(ds(20), { batchSize: 4, seed: 7 });
    const b = new DataLoader(ds(20), { batchSize: 4, seed: 7 });
    const c = new DataLoader(ds(20), { batchSize: 4, seed: 8 });
    const all = await collect(a.batches(), 15); // 3 epochs
    expect(await collect(b.batches(), 15)).toEqual(all);
    expect(await collect(c.batches(), 5)).not.toEqual(all.slice(0, 5));
    expect(all.slice(0, 5)).not.toEqual(all.slice(5, 10));
    // resume at epoch 1, step 3 (global step 8) directly
    const r = new DataLoader(ds(20), { batchSize: 4, seed: 7 });
    expect(await collect(r.batches({ epoch: 1, step: 3 }), 7)).toEqual(all.slice(8));
    expect(r.position(8)).toEqual({ epoch: 1, step: 3 });
    expect(epochSeed(7, 1)).not.toBe(epochSeed(7, 2));
    expect(epochSeed(7, 1)).not.toBe(epochSeed(8, 1));
    const plain = new DataLoader(ds(6), { batchSize: 2, seed: 0, shuffle: false });
    expect(await collect(plain.batches({ endEpoch: 1 }), 9)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
  });

  it('reads the same batches from a prepared folder, with reads in flight', async () => {
    const dir = path.join(tmp, 'p');
    writePrepared(dir, ds(12));
    const src = await openPrepared(dir);
    const l = new DataLoader(src, { batchSize: 5, seed: 3, prefetch: 2 });
    const m = new DataLoader(ds(12), { batchSize: 5, seed: 3 });
    const fromFile = [];
    for await (const b of l.batches({ endEpoch: 2 })) fromFile.push(Array.from(b.images));
    const fromMem = [];
    for await (const b of m.batches({ endEpoch: 2 })) fromMem.push(Array.from(b.images));
    expect(fromFile).toEqual(fromMem);
    expect(fromFile.length).toBe(4);
    await l.close();
  });

  it('converts a batch to a [B,H,W,C] tensor without leaking', async () => {
    const l = new DataLoader(ds(4), { batchSize: 2, seed: 0, shuffle: false });
    const b = await l.fetch(0, 1);
    await expectNoLeak(() => {
      const t = batchToTensor(b);
      expect(t.shape).toEqual([2, 2, 2, 1]);
      expect(t.dtype).toBe('float32');
      expect(Array.from(t.dataSync())).toEqual([2, 2, 2, 2, 3, 3, 3, 3]);
      t.dispose();
      const u = batchToTensor(b, 'int32');
      expect(u.dtype).toBe('int32');
      tf.dispose(u);
    });
  });
});
