import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdxFile } from '../../src/data/idx';
import {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
} from '../../src/data/fashionMnist';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'carp-fmnist-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('IDX parser', () => {
  it('round-trips every element type with big-endian headers', () => {
    for (const dtype of ['uint8', 'int8', 'int16', 'int32', 'float32', 'float64'] as const) {
      const data = dtype === 'uint8' ? [0, 1, 255, 7, 8, 9] : [0, -1, 100, 7, -8, 9];
      const a = parseIdx(encodeIdx(dtype, [2, 3], data), 'x.idx');
      expect(a.dtype).toBe(dtype);
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual(data);
    }
    // header bytes: magic 00 00, type 08, ndim 2, dims big-endian
    expect([...encodeIdx('uint8', [2, 258], new Uint8Array(516)).subarray(0, 12)]).toEqual([
      0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 1, 2,
    ]);
  });

  it('names the file and offset on bad magic, bad type and truncation', () => {
    const good = encodeIdx('uint8', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const badMagic = Buffer.from(good);
    badMagic[1] = 1;
    expect(() => parseIdx(badMagic, 'a.idx')).toThrow(/a\.idx.*offset 0.*magic/);
    const badType = Buffer.from(good);
    badType[2] = 0x42;
    expect(() => parseIdx(badType, 'b.idx')).toThrow(/b\.idx.*offset 2.*element type 42/);
    expect(() => parseIdx(good.subarray(0, good.length - 3), 'c.idx')).toThrow(
      /c\.idx.*offset 17.*needs 20 bytes, file has 17 \(truncated\)/,
    );
    expect(() => parseIdx(good.subarray(0, 6), 'd.idx')).toThrow(/d\.idx.*header needs 12 bytes/);
  });

  it('reads gzipped files and reports a corrupt gzip stream', () => {
    const p = path.join(tmp, 'x-ubyte.gz');
    fs.writeFileSync(p, zlib.gzipSync(encodeIdx('uint8', [3], [5, 6, 7])));
    expect(Array.from(readIdxFile(p).data)).toEqual([5, 6, 7]);
    const bad = path.join(tmp, 'bad-ubyte.gz');
    fs.writeFileSync(bad, fs.readFileSync(p).subarray(0, 15));
    expect(() => readIdxFile(bad)).toThrow(/bad-ubyte\.gz: gzip stream is corrupt or truncated/);
  });
});

describe('loadFashionMnist', () => {
  it('loads a generated split in the Debian layout', () => {
    const dir = path.join(tmp, 'fm');
    fs.mkdirSync(dir);
    const imgs = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => i);
    fs.writeFileSync(
      path.join(dir, 't10k-images-idx3-ubyte.gz'),
      zlib.gzipSync(encodeIdx('uint8', [3, 4, 5], imgs)),
    );
    fs.writeFileSync(
      path.join(dir, 't10k-labels-idx1-ubyte.gz'),
      zlib.gzipSync(encodeIdx('uint8', [3], [9, 0, 4])),
    );
    const d = loadFashionMnist('test', { dir });
    expect([d.count, d.height, d.width, d.channels]).toEqual([3, 4, 5, 1]);
    expect(Array.from(d.labels)).toEqual([9, 0, 4]);
    expect(Array.from(d.images)).toEqual(Array.from(imgs));
    expect(d.classes[9]).toBe('Ankle boot');
    expect(loadFashionMnist('test', { dir, limit: 2 }).labels.length).toBe(2);
    expect(() => loadFashionMnist('train', { dir })).toThrow(
      /train-images-idx3-ubyte\.gz not found/,
    );
  });

  it('mentions apt-get when the Debian package is missing', () => {
    // Only checkable through the message when the default dir is absent; otherwise load it.
    if (!fs.existsSync(DEBIAN_FASHION_MNIST_DIR)) {
      expect(() => loadFashionMnist('test')).toThrow(/apt-get install dataset-fashion-mnist/);
      return;
    }
    const t0 = performance.now();
    const train = loadFashionMnist('train', { dir: DEBIAN_FASHION_MNIST_DIR });
    const ms = performance.now() - t0;
    expect([train.count, train.height, train.width, train.channels]).toEqual([60000, 28, 28, 1]);
    const test = loadFashionMnist('test', { dir: DEBIAN_FASHION_MNIST_DIR });
    expect(test.count).toBe(10000);
    const counts = new Array(10).fill(0);
    for (const y of train.labels) counts[y]++;
    expect(counts).toEqual(new Array(10).fill(6000));
    expect(train.classes).toEqual(FASHION_MNIST_CLASSES);
    expect(ms).toBeLessThan(5000);
  });
});
