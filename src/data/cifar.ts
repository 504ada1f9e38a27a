/**
 * CIFAR-10 / CIFAR-100 binary versions (§9.9 rows 10–11; k-means protocol).
 *
 * CIFAR-10 (`cifar-10-batches-bin/`): data_batch_1…5.bin (train, 50 000) and
 * test_batch.bin (10 000); each record = 1 label byte + 3072 pixel bytes stored as
 * 1024 R, 1024 G, 1024 B (row-major 32×32 planes). Class names in batches.meta.txt.
 * CIFAR-100 (`cifar-100-binary/`): train.bin / test.bin, each record = coarse label byte,
 * fine label byte, 3072 pixel bytes; names in coarse_label_names.txt / fine_label_names.txt.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { validateDataset } from './dataset';
import { FormatError } from '../util/formatError';

const PIXELS = 32 * 32;

function readNames(file: string, expected: number): string[] {
  if (!fs.existsSync(file))
    throw new Error(`${file} not found (class names of the CIFAR binary version)`);
  const names = fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length !== expected)
    throw new FormatError(file, `expected ${expected} class names, found ${names.length}`);
  return names;
}

/** Decodes CIFAR binary records (CHW planes → HWC); `labelBytes` 1 (CIFAR-10) or 2 (CIFAR-100). */
export function parseCifarRecords(
  buf: Uint8Array,
  file: string,
  labelBytes: 1 | 2,
  labelIndex: 0 | 1,
  numClasses: number,
): { images: Uint8Array; labels: Int32Array } {
  const rec = labelBytes + 3 * PIXELS;
  if (buf.length % rec !== 0) {
    const n = Math.floor(buf.length / rec);
    throw new FormatError(
      file,
      `truncated record at byte offset ${n * rec}: file size ${buf.length} is not a multiple of ${rec}`,
      { offset: n * rec },
    );
  }
  const n = buf.length / rec;
  const images = new Uint8Array(n * 3 * PIXELS);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    const y = buf[o + labelIndex];
    if (y >= numClasses)
      throw new FormatError(
        file,
        `label ${y} at byte offset ${o + labelIndex} is not below ${numClasses}`,
        { offset: o + labelIndex },
      );
    labels[i] = y;
    const px = o + labelBytes;
    const out = i * 3 * PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      images[out + 3 * p] = buf[px + p];
      images[out + 3 * p + 1] = buf[px + PIXELS + p];
      images[out + 3 * p + 2] = buf[px + 2 * PIXELS + p];
    }
  }
  return { images, labels };
}

function concat(parts: { images: Uint8Array; labels: Int32Array }[]) {
  const images = new Uint8Array(parts.reduce((s, p) => s + p.images.length, 0));
  const labels = new Int32Array(parts.reduce((s, p) => s + p.labels.length, 0));
  let io = 0;
  let lo = 0;
  for (const p of parts) {
    images.set(p.images, io);
    labels.set(p.labels, lo);
    io += p.images.length;
    lo += p.labels.length;
  }
  return { images, labels };
}

function readFile(dir: string, name: string): Buffer {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found; expected the CIFAR binary version (run data-scripts/cifar.ts to download it)`,
    );
  }
  return fs.readFileSync(file);
}

/** Where a CIFAR binary variant keeps its records and class names, and how it labels them. */
interface CifarLayout {
  name: string;
  files: string[];
  labelBytes: 1 | 2;
  labelIndex: 0 | 1;
  numClasses: number;
  namesFile: string;
}

/** Reads the records of `layout.files` under `dir` as one validated 32×32×3 dataset. */
function readCifarBinary(dir: string, split: 'train' | 'test', layout: CifarLayout): ImageDataset {
  const { images, labels } = concat(
    layout.files.map((f) =>
      parseCifarRecords(
        readFile(dir, f),
        path.join(dir, f),
        layout.labelBytes,
        layout.labelIndex,
        layout.numClasses,
      ),
    ),
  );
  return validateDataset({
    name: layout.name,
    split,
    count: labels.length,
    height: 32,
    width: 32,
    channels: 3,
    images,
    labels,
    classes: readNames(path.join(dir, layout.namesFile), layout.numClasses),
  });
}

/** Reads CIFAR-10 from `dir` = the extracted `cifar-10-batches-bin` folder. */
export function readCifar10(dir: string, split: 'train' | 'test'): ImageDataset {
  return readCifarBinary(dir, split, {
    name: 'cifar10',
    files:
      split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'],
    labelBytes: 1,
    labelIndex: 0,
    numClasses: 10,
    namesFile: 'batches.meta.txt',
  });
}

/** Reads CIFAR-100 from `dir` = the extracted `cifar-100-binary` folder (fine labels by default). */
export function readCifar100(
  dir: string,
  split: 'train' | 'test',
  opts: { labels?: 'fine' | 'coarse' } = {},
): ImageDataset {
  const fine = (opts.labels ?? 'fine') === 'fine';
  return readCifarBinary(dir, split, {
    name: fine ? 'cifar100' : 'cifar100-coarse',
    files: [`${split}.bin`],
    labelBytes: 2,
    labelIndex: fine ? 1 : 0,
    numClasses: fine ? 100 : 20,
    namesFile: fine ? 'fine_label_names.txt' : 'coarse_label_names.txt',
  });
}
