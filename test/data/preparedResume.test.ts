/**
 * Resumable prepared writers: a conversion dropped after some appends (the writer is
 * never finished, as when the process is killed) continues from its progress record and
 * ends byte-identical to a single uninterrupted write; a record that no longer matches
 * the files, the source or the shape starts over and says why.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../src/data/dataset';
import { tinyImageDataset } from '../helpers/fixtures';
import { partialDir, PreparedWriter, writePrepared } from '../../src/data/prepared';
import { verifyPrepared } from '../../src/data/preparedRead';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-resume-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = (count = 7): ImageDataset => tinyImageDataset(count, (i) => `img"${i}".png`);

const META = (d: ImageDataset) => ({
  name: d.name,
  split: d.split,
  height: d.height,
  width: d.width,
  channels: d.channels,
  classes: d.classes,
  labelDim: 1,
});

/** Appends images [from, to) of `d`. */
function appendRange(w: PreparedWriter, d: ImageDataset, from: number, to: number): void {
  w.append(
    d.images.subarray(from * 12, to * 12),
    d.labels.subarray(from, to),
    d.names!.slice(from, to),
  );
}

/** Every file of a folder, by name. */
function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f))]),
  );
}

describe('resumable prepared writer', () => {
  const d = tiny();
  const reference = path.join(tmp, 'reference');
  writePrepared(reference, d, { chunkBytes: 16 });

  it('continues from the progress record; the result is byte-identical to one write', () => {
    const dir = path.join(tmp, 'a');
    const logs: string[] = [];
    const resume = { key: 'k1', checkpointSeconds: 0, log: (m: string) => logs.push(m) };
    const w1 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
    appendRange(w1, d, 0, 2);
    appendRange(w1, d, 2, 3);
    // Killed in the middle of the next append: bytes past the record are on disk.
    fs.appendFileSync(path.join(partialDir(dir), 'images.u8'), Buffer.alloc(5, 9));
    fs.appendFileSync(path.join(partialDir(dir), 'names.json'), ',"half');
    expect(fs.existsSync(dir)).toBe(false);
    const w2 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
    expect(w2.count).toBe(3);
    expect(logs).toEqual([`${dir}: resuming at image 3 (progress record verified)`]);
    appendRange(w2, d, 3, 7);
    const m = w2.finish();
    expect(m.count).toBe(7);
    expect(files(dir)).toEqual(files(reference));
    expect(fs.existsSync(partialDir(dir))).toBe(false);
    verifyPrepared(dir);
  });

  it('starts over when the prefix changed, the source differs or the record is unreadable', () => {
    const cases: [string, (p: string) => void, string][] = [
      [
        'changed',
        (p) => {
          const f = path.join(p, 'labels.i32');
          const b = fs.readFileSync(f);
          b[4] ^= 1;
          fs.writeFileSync(f, b);
        },
        `labels.i32: the first 12 bytes changed`,
      ],
      [
        'short',
        (p) => fs.truncateSync(path.join(p, 'images.u8'), 10),
        'has 10 bytes, the progress record 36',
      ],
      [
        'json',
        (p) => fs.writeFileSync(path.join(p, 'progress.json'), '{'),
        'progress.json is not valid JSON',
      ],
    ];
    for (const [name, damage, why] of cases) {
      const dir = path.join(tmp, name);
      const logs: string[] = [];
      const resume = { key: 'k1', checkpointSeconds: 0, log: (m: string) => logs.push(m) };
      const w1 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
      appendRange(w1, d, 0, 3);
      damage(partialDir(dir));
      const w2 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
      expect(w2.count, name).toBe(0);
      expect(logs, name).toHaveLength(1);
      expect(logs[0], name).toContain(`${dir}: starting over (`);
      expect(logs[0], name).toContain(why);
      appendRange(w2, d, 0, 7);
      w2.finish();
      expect(files(dir), name).toEqual(files(reference));
    }
    const other = path.join(tmp, 'other');
    const logs: string[] = [];
    const w1 = new PreparedWriter(other, META(d), {
      chunkBytes: 16,
      resume: { key: 'k1', checkpointSeconds: 0 },
    });
    appendRange(w1, d, 0, 3);
    const w2 = new PreparedWriter(other, META(d), {
      chunkBytes: 16,
      resume: { key: 'k2', log: (m) => logs.push(m) },
    });
    expect(w2.count).toBe(0);
    expect(logs).toEqual([
      `${other}: starting over (the partial conversion was of another source or transform)`,
    ]);
    const w3 = new PreparedWriter(
      other,
      { ...META(d), classes: ['x', 'y', 'z'] },
      {
        chunkBytes: 16,
        resume: { key: 'k2', log: (m) => logs.push(m) },
      },
    );
    expect(w3.count).toBe(0);
  });

  it('a failed conversion keeps its partial folder for the next run; a plain writer keeps nothing', () => {
    const dir = path.join(tmp, 'failed');
    const resume = { key: 'k1', checkpointSeconds: 3600 };
    const w1 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
    appendRange(w1, d, 0, 4);
    w1.abort(); // records the 4 images although no checkpoint was due
    const w2 = new PreparedWriter(dir, META(d), { chunkBytes: 16, resume });
    expect(w2.count).toBe(4);
    appendRange(w2, d, 4, 7);
    w2.finish();
    expect(files(dir)).toEqual(files(reference));
    const plain = path.join(tmp, 'plain');
    const w = new PreparedWriter(plain, META(d));
    appendRange(w, d, 0, 2);
    w.abort();
    expect(fs.readdirSync(tmp).filter((f) => f.includes('plain'))).toEqual([]);
  });
});
