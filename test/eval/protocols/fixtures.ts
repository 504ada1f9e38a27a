/**
 * Tiny datasets in the layouts the data-scripts write (prepared folders under
 * `<CARP_DATA_DIR>/<dataset>/<split>`, raw files under `<CARP_DATA_DIR>/raw/<dataset>`), and
 * a tiny RGB teacher with an ImageNet stem (32 px crops, width 2) to run the runners on.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../src/config/resolve';
import type { DecodedImage } from '../../../src/data/imageFile';
import { encodeImageFile } from '../../../src/data/imageFile';
import { writePrepared } from '../../../src/data/prepared';
import { VOC_CLASSES } from '../../../src/data/voc2007';
import { createRng, type Rng } from '../../../src/random';
import { randomInitTeacher } from '../../../src/train/randomTeacher';

export const TINY_RGB_OVERRIDES = [
  'model.width=2',
  'model.inChannels=3',
  'model.numPrototypes=16',
  'model.partitionSize=8',
  'crops.globalSize=32',
  'crops.localSize=16',
  'crops.mean=0.485,0.456,0.406',
  'crops.std=0.229,0.224,0.225',
];

export const tinyRgbConfig = () => resolveConfig('fmnist-tiny', TINY_RGB_OVERRIDES);
export const tinyRgbTeacher = () => randomInitTeacher(tinyRgbConfig());

/** A temp data root and run directory. */
export function tempDirs(tag: string): { dataDir: string; runDir: string } {
  const base = mkdtempSync(join(tmpdir(), `carp-${tag}-`));
  const dataDir = join(base, 'data');
  const runDir = join(base, 'run');
  mkdirSync(dataDir);
  mkdirSync(runDir);
  return { dataDir, runDir };
}

/** A smooth random RGB image (a colour gradient plus a few blobs): distinct per seed, JPEG-stable. */
export function syntheticImage(h: number, w: number, rng: Rng): DecodedImage {
  const c0 = [0, 1, 2].map(() => rng.uniform(0, 255));
  const gy = [0, 1, 2].map(() => rng.uniform(-200, 200));
  const gx = [0, 1, 2].map(() => rng.uniform(-200, 200));
  const blobs = Array.from({ length: 3 }, () => ({
    y: rng.uniform(0, h),
    x: rng.uniform(0, w),
    r: rng.uniform(0.15, 0.4) * Math.min(h, w),
    v: [0, 1, 2].map(() => rng.uniform(-120, 120)),
  }));
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < 3; k++) {
        let v = c0[k] + (gy[k] * y) / h + (gx[k] * x) / w;
        for (const b of blobs) if ((y - b.y) ** 2 + (x - b.x) ** 2 < b.r ** 2) v += b.v[k];
        data[(y * w + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return { data, height: h, width: w, channels: 3 };
}

/** Adds seeded noise of amplitude `amp` (a mild "edit"). */
export function perturb(img: DecodedImage, amp: number, rng: Rng): DecodedImage {
  const data = img.data.map((v) =>
    Math.max(0, Math.min(255, Math.round(v + rng.uniform(-amp, amp)))),
  );
  return { ...img, data };
}

/** Writes a prepared split of equal-size RGB images. */
export function writePreparedSplit(
  dataDir: string,
  dataset: string,
  split: string,
  images: DecodedImage[],
  labels: Int32Array,
  o: { classes: string[]; labelDim?: number; names?: string[] },
): void {
  const { height, width } = images[0];
  const all = new Uint8Array(images.length * height * width * 3);
  images.forEach((im, i) => all.set(im.data, i * height * width * 3));
  writePrepared(join(dataDir, dataset, split), {
    name: dataset,
    split,
    count: images.length,
    height,
    width,
    channels: 3,
    images: all,
    labels,
    classes: o.classes,
    labelDim: o.labelDim ?? 1,
    ...(o.names ? { names: o.names } : {}),
  });
}

/**
 * VOC07-like prepared splits (`voc2007/{trainval,test}`, 40×40, labelDim 20): image i is
 * positive for classes i mod 20 and (3i + 7) mod 20, difficult (0 → already −1) elsewhere none.
 */
export function writeVocFixture(dataDir: string, nTrainval = 24, nTest = 20): void {
  const rng = createRng(11);
  for (const [split, n, off] of [
    ['trainval', nTrainval, 0],
    ['test', nTest, 5],
  ] as const) {
    const K = VOC_CLASSES.length;
    const labels = new Int32Array(n * K).fill(-1);
    for (let i = 0; i < n; i++) {
      labels[i * K + ((i + off) % K)] = 1;
      labels[i * K + ((3 * (i + off) + 7) % K)] = 1;
    }
    const images = Array.from({ length: n }, () => syntheticImage(40, 40, rng));
    writePreparedSplit(dataDir, 'voc2007', split, images, labels, {
      classes: [...VOC_CLASSES],
      labelDim: K,
      names: images.map((_, i) => `${split}-${i}`),
    });
  }
}

/** Writes image files (JPEG or PNG by extension). */
export async function writeImages(dir: string, files: [string, DecodedImage][]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const [name, img] of files) await encodeImageFile(join(dir, name), img, 95);
}

/** Writes a revisited ground-truth JSON. */
export function writeGroundTruth(file: string, gt: unknown): void {
  writeFileSync(file, JSON.stringify(gt));
}
