import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resizeTo } from '../../src/data/fileList';
import { fileListSource, listImageFiles } from '../../src/data/fileSource';
import { encodeImageFile } from '../../src/data/imageFile';

async function folder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'files-'));
  mkdirSync(join(dir, 'sub'));
  mkdirSync(join(dir, '.hidden'));
  const img = (v: number) => ({
    data: new Uint8Array(4 * 6 * 3).fill(v),
    height: 4,
    width: 6,
    channels: 3,
  });
  await encodeImageFile(join(dir, 'b.png'), img(10));
  await encodeImageFile(join(dir, 'sub', 'a.png'), img(200));
  await encodeImageFile(join(dir, '.hidden', 'c.png'), img(50));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  return dir;
}

describe('image files as a source', () => {
  it('lists image files at any depth, sorted by path, skipping hidden entries and other files', async () => {
    const dir = await folder();
    expect(listImageFiles(dir)).toEqual([join(dir, 'b.png'), join(dir, 'sub', 'a.png')]);
    expect(() => listImageFiles(join(dir, 'nope'), 'the folder')).toThrow(
      /the folder .*nope not found/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    expect(() => listImageFiles(empty)).toThrow(/has no image files/);
  });

  it('decodes and transforms on read, in the order asked; labels are −1', async () => {
    const dir = await folder();
    const files = listImageFiles(dir);
    const s = fileListSource({ name: 'x', split: 'y', files, transform: resizeTo(2, 3) });
    expect([s.count, s.height, s.width, s.channels]).toEqual([2, 2, 3, 3]);
    expect(Array.from(s.labels)).toEqual([-1, -1]);
    const out = new Uint8Array(2 * 2 * 3 * 3);
    await s.readImages([1, 0], out);
    expect(out[0]).toBe(200); // a constant image stays constant through the resize
    expect(out[18]).toBe(10);
    await expect(s.readImages([2], out)).rejects.toThrow(/image index 2 outside \[0, 2\)/);
  });
});
