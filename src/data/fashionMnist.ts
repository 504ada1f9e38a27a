/**
 * Fashion-MNIST from Debian's `dataset-fashion-mnist` package (architecture §7.5):
 * `/usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`,
 * gzipped IDX, 60 000 train / 10 000 test greyscale 28×28 images, 10 classes.
 * The default dataset of the `fmnist-*` presets (architecture §5).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { validateDataset } from './dataset';
import { readIdxFile } from './idx';

/** Where Debian installs the files; `CARP_FASHION_MNIST_DIR` overrides it. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Class names in label order (Zalando's README). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Per-channel statistics of the training images in [0, 1], for normalisation. */
export const FASHION_MNIST_MEAN = [0.286];
export const FASHION_MNIST_STD = [0.353];

export interface FashionMnistOptions {
  /** Directory holding the four `.gz` (or uncompressed) IDX files. */
  dir?: string;
  /** Keep only the first `limit` images (tiny presets, tests). */
  limit?: number;
}

function findFile(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(
    `Fashion-MNIST file ${stem}.gz not found in ${dir}. ` +
      (dir === DEBIAN_FASHION_MNIST_DIR
        ? 'Install it with `sudo apt-get install dataset-fashion-mnist` ' +
          '(or set CARP_FASHION_MNIST_DIR to a folder with the IDX files).'
        : 'Expected the IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, ' +
          't10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.'),
  );
}

/** Loads one split (`train`: 60 000 images, `test`: 10 000) into memory (≈0.3 s for train). */
export function loadFashionMnist(
  split: 'train' | 'test',
  opts: FashionMnistOptions = {},
): ImageDataset {
  const dir = opts.dir ?? process.env.CARP_FASHION_MNIST_DIR ?? DEBIAN_FASHION_MNIST_DIR;
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const lblPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const img = readIdxFile(imgPath);
  const lbl = readIdxFile(lblPath);
  if (img.dtype !== 'uint8' || img.shape.length !== 3) {
    throw new Error(
      `${imgPath}: expected uint8 images of shape [N, H, W], got ${img.dtype} [${img.shape.join(', ')}]`,
    );
  }
  if (lbl.dtype !== 'uint8' || lbl.shape.length !== 1) {
    throw new Error(
      `${lblPath}: expected uint8 labels of shape [N], got ${lbl.dtype} [${lbl.shape.join(', ')}]`,
    );
  }
  const [n, h, w] = img.shape;
  if (lbl.shape[0] !== n) {
    throw new Error(`${lblPath}: has ${lbl.shape[0]} labels but ${imgPath} has ${n} images`);
  }
  const count = opts.limit === undefined ? n : Math.max(0, Math.min(n, opts.limit));
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = lbl.data[i];
    if (labels[i] >= FASHION_MNIST_CLASSES.length) {
      throw new Error(
        `${lblPath}: label ${labels[i]} at byte offset ${8 + i} is not a class index (0–9)`,
      );
    }
  }
  return validateDataset({
    name: 'fashion-mnist',
    split,
    count,
    height: h,
    width: w,
    channels: 1,
    // A view of the gunzipped buffer: no copy (the buffer holds only the header besides).
    images: (img.data as Uint8Array).subarray(0, count * h * w),
    labels,
    classes: [...FASHION_MNIST_CLASSES],
  });
}
