/**
 * STL-10 binary version (`stl10_binary/`; §9.9 row 8, k-NN on the labelled train
 * split vs test).
 *
 * {train,test,unlabeled}_X.bin: uint8 images of 3×96×96 stored column-major (MATLAB
 * order: for each channel, columns of 96 pixels), i.e. element (c, x, y) at
 * c·9216 + x·96 + y; {train,test}_y.bin: one label byte per image, 1…10.
 * class_names.txt lists the 10 names. The unlabeled split has labels −1 and no classes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { validateDataset } from './dataset';

const S = 96;
const PLANE = S * S;
const REC = 3 * PLANE;

/** Column-major CHW records → row-major HWC. */
export function parseStl10Images(buf: Uint8Array, file: string, limit = Infinity): Uint8Array {
  if (buf.length % REC !== 0) {
    throw new Error(
      `${file}: truncated image at byte offset ${Math.floor(buf.length / REC) * REC}: size ${buf.length} is not a multiple of ${REC}`,
    );
  }
  const n = Math.min(buf.length / REC, limit);
  const out = new Uint8Array(n * REC);
  for (let i = 0; i < n; i++) {
    const o = i * REC;
    for (let c = 0; c < 3; c++) {
      for (let x = 0; x < S; x++) {
        for (let y = 0; y < S; y++) out[o + (y * S + x) * 3 + c] = buf[o + c * PLANE + x * S + y];
      }
    }
  }
  return out;
}

export interface Stl10Options {
  /** Read only the first `limit` images (the unlabeled split is 100 000 images, 2.8 GB). */
  limit?: number;
}

/** Reads a split of STL-10 from `dir` = the extracted `stl10_binary` folder. */
export function readStl10(
  dir: string,
  split: 'train' | 'test' | 'unlabeled',
  opts: Stl10Options = {},
): ImageDataset {
  const xFile = path.join(dir, `${split}_X.bin`);
  if (!fs.existsSync(xFile)) {
    throw new Error(
      `${xFile} not found; expected the STL-10 binary version (run data-scripts/stl10.ts)`,
    );
  }
  const size = fs.statSync(xFile).size;
  if (size % REC !== 0) {
    throw new Error(
      `${xFile}: truncated image at byte offset ${size - (size % REC)}: size ${size} is not a multiple of ${REC}`,
    );
  }
  // Read only what is needed (the unlabeled file is 2.8 GB).
  const want = Math.min(size, (opts.limit ?? Infinity) * REC);
  const buf = Buffer.alloc(want);
  const fd = fs.openSync(xFile, 'r');
  try {
    let got = 0;
    while (got < want) got += fs.readSync(fd, buf, got, Math.min(want - got, 1 << 30), got);
  } finally {
    fs.closeSync(fd);
  }
  const images = parseStl10Images(buf, xFile);
  const count = images.length / REC;
  let labels: Int32Array;
  let classes: string[] = [];
  if (split === 'unlabeled') {
    labels = new Int32Array(count).fill(-1);
  } else {
    const yFile = path.join(dir, `${split}_y.bin`);
    if (!fs.existsSync(yFile)) throw new Error(`${yFile} not found`);
    const y = fs.readFileSync(yFile);
    if (y.length < count)
      throw new Error(`${yFile}: has ${y.length} labels for ${count} images in ${xFile}`);
    labels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (y[i] < 1 || y[i] > 10)
        throw new Error(`${yFile}: label ${y[i]} at byte offset ${i} is not in 1…10`);
      labels[i] = y[i] - 1;
    }
    const namesFile = path.join(dir, 'class_names.txt');
    classes = fs.existsSync(namesFile)
      ? fs
          .readFileSync(namesFile, 'utf8')
          .split(/\r?\n/)
          .map((s) => s.trim())
          .filter(Boolean)
      : ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'];
  }
  return validateDataset({
    name: 'stl10',
    split,
    count,
    height: S,
    width: S,
    channels: 3,
    images,
    labels,
    classes,
  });
}
