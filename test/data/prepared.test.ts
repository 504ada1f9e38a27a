import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset';
import { tinyImageDataset } from '../helpers/fixtures';
import { PreparedWriter, writePrepared } from '../../src/data/prepared';
import {
  openPrepared,
  readManifest,
  readPrepared,
  verifyPrepared,
} from '../../src/data/preparedRead';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-prep-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = (count = 5): ImageDataset => tinyImageDataset(count);

describe('prepared folders', () => {
  it('round-trips a dataset with manifest, hashes and names', async () => {
    const dir = path.join(tmp, 'rt');
    const d = tiny();
    const m = writePrepared(dir, d, { chunkBytes: 16 });
    expect(m.shape).toEqual([2, 3, 2]);
    expect(m.files.images.bytes).toBe(60);
    expect(m.files.images.chunkSha256.length).toBe(4);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'images.u8',
      'labels.i32',
      'manifest.json',
      'names.json',
    ]);
    // no temporary folders left next to it
    expect(fs.readdirSync(tmp)).toEqual(['rt']);
    const back = readPrepared(dir, { verify: true });
    expect(Array.from(back.images)).toEqual(Array.from(d.images));
    expect(Array.from(back.labels)).toEqual(Array.from(d.labels));
    expect(back.names).toEqual(d.names);
    expect(back.classes).toEqual(d.classes);
    // labels are little-endian int32 on disk
    expect([...fs.readFileSync(path.join(dir, 'labels.i32')).subarray(4, 8)]).toEqual([1, 0, 0, 0]);

    const src = await openPrepared(dir);
    const out = new Uint8Array(2 * 12);
    await src.readImages([4, 1], out);
    expect(Array.from(out)).toEqual([...d.images.subarray(48, 60), ...d.images.subarray(12, 24)]);
    await src.close();
  });

  it('refuses to overwrite unless asked, and replaces atomically when asked', () => {
    const dir = path.join(tmp, 'ow');
    writePrepared(dir, tiny(2));
    expect(() => writePrepared(dir, tiny(3))).toThrow(/already exists/);
    writePrepared(dir, tiny(3), { overwrite: true });
    expect(readManifest(dir).count).toBe(3);
    expect(fs.readdirSync(tmp).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('leaves nothing behind when a conversion fails or is aborted', () => {
    const dir = path.join(tmp, 'ab');
    const w = new PreparedWriter(dir, { ...tiny(), labelDim: 1 });
    w.append(tiny(1).images, tiny(1).labels);
    expect(() => w.append(new Uint8Array(5), new Int32Array(1))).toThrow(/expected n·12 bytes/);
    w.abort();
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(tmp).filter((n) => n.includes('ab'))).toEqual([]);
    const bad = { ...tiny(), labels: new Int32Array([0, 1, 9, 0, 0]) };
    expect(() => writePrepared(path.join(tmp, 'bad'), bad)).toThrow(/labels\[2\] = 9/);
    expect(fs.existsSync(path.join(tmp, 'bad'))).toBe(false);
  });

  it('reports truncation, trailing data and corruption with file and offset', () => {
    const dir = path.join(tmp, 'bad2');
    writePrepared(dir, tiny(), { chunkBytes: 16 });
    const img = path.join(dir, 'images.u8');
    const orig = fs.readFileSync(img);
    fs.writeFileSync(img, orig.subarray(0, 50));
    expect(() => readPrepared(dir)).toThrow(
      /images\.u8: truncated at byte offset 50, manifest says 60/,
    );
    fs.writeFileSync(img, Buffer.concat([orig, Buffer.from([1])]));
    expect(() => readPrepared(dir)).toThrow(/trailing data from byte offset 60/);
    const flipped = Buffer.from(orig);
    flipped[37] ^= 1;
    fs.writeFileSync(img, flipped);
    expect(() => readPrepared(dir)).not.toThrow(); // hashes are checked on demand
    expect(() => verifyPrepared(dir)).toThrow(
      /images\.u8: sha256 mismatch in bytes \[32, 48\) \(block 2\)/,
    );
    expect(() => readPrepared(dir, { verify: true })).toThrow(/sha256 mismatch/);
    fs.writeFileSync(img, orig);
    const mf = path.join(dir, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    fs.writeFileSync(mf, JSON.stringify({ ...m, shape: [2, 3] }));
    expect(() => readManifest(dir)).toThrow(/manifest\.json: field 'shape'/);
    fs.writeFileSync(mf, '{"format": ');
    expect(() => readManifest(dir)).toThrow(/manifest\.json: not valid JSON/);
  });

  it('writes a large split incrementally with the same result as one append', () => {
    const d = tiny(7);
    const w = new PreparedWriter(path.join(tmp, 'inc'), d, { chunkBytes: 10 });
    for (let i = 0; i < 7; i += 3) {
      const e = Math.min(7, i + 3);
      w.append(d.images.subarray(i * 12, e * 12), d.labels.subarray(i, e), d.names!.slice(i, e));
    }
    const m1 = w.finish();
    const m2 = writePrepared(path.join(tmp, 'one'), d, { chunkBytes: 10 });
    expect(m1.files).toEqual(m2.files);
  });
});
