/**
 * Datasets stored as image files of varying size (GTSRB, image folders, VOC 2007, the
 * retrieval sets, ImageNet-style folders). A reader returns an `ImageFileList`; it becomes a
 * fixed-size `ImageDataset` (or a prepared folder, streamed) through a per-image transform
 * such as T-eval (`tevalImage`) or a plain resize (`resizeTo`).
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import type { ImageDataset } from './dataset';
import { validateDataset } from './dataset';
import type { DecodedImage } from './imageFile';
import { decodeImageFile } from './imageFile';
import { PreparedWriter, type PreparedManifest, type ResumeOptions } from './prepared';
import type { ResampleFilter } from './resample';
import { resizeDecoded } from './resample';

export interface ImageFileList {
  name: string;
  split: string;
  /** Absolute paths, one per image. */
  files: string[];
  /** [count, labelDim] int32 (−1 where unknown). */
  labels: Int32Array;
  labelDim: number;
  classes: string[];
  /** Optional region of interest per image, [x1, y1, x2, y2] inclusive (GTSRB CSVs). */
  rois?: ([number, number, number, number] | null)[];
}

/** A per-image transform to a fixed size, with a short description stored in manifests. */
export interface FixedSizeTransform {
  height: number;
  width: number;
  describe: string;
  apply(img: DecodedImage): DecodedImage;
}

/** Plain resize to h×w ignoring aspect (PIL filter; GTSRB/CIFAR-style small images). */
export function resizeTo(
  height: number,
  width: number,
  filter: ResampleFilter = 'bilinear',
): FixedSizeTransform {
  return {
    height,
    width,
    describe: `resize-${height}x${width}-${filter}`,
    apply(img) {
      if (img.height === height && img.width === width) return img;
      return resizeDecoded(img, height, width, filter);
    },
  };
}

/** Crops an image to an inclusive [x1, y1, x2, y2] box (clipped to the image). */
export function cropImage(img: DecodedImage, roi: [number, number, number, number]): DecodedImage {
  const x1 = Math.max(0, roi[0]);
  const y1 = Math.max(0, roi[1]);
  const x2 = Math.min(img.width - 1, roi[2]);
  const y2 = Math.min(img.height - 1, roi[3]);
  if (x2 < x1 || y2 < y1) return img;
  const w = x2 - x1 + 1;
  const h = y2 - y1 + 1;
  const c = img.channels;
  const data = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++) {
    const from = ((y1 + y) * img.width + x1) * c;
    data.set(img.data.subarray(from, from + w * c), y * w * c);
  }
  return { data, height: h, width: w, channels: c };
}

export interface MaterializeOptions {
  /** 3 (RGB, default) or 1 (greyscale). */
  channels?: 1 | 3;
  /** Crop to the ROI before the transform when the list has one (default false). */
  useRoi?: boolean;
  /** Files decoded concurrently (default 8). */
  concurrency?: number;
  /** Called after each chunk with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

async function decodeChunk(
  list: ImageFileList,
  t: FixedSizeTransform,
  from: number,
  to: number,
  o: MaterializeOptions,
  out: Uint8Array,
): Promise<void> {
  const per = t.height * t.width * (o.channels ?? 3);
  await Promise.all(
    Array.from({ length: to - from }, async (_, k) => {
      const i = from + k;
      let img = await decodeImageFile(list.files[i], { channels: o.channels ?? 3 });
      const roi = list.rois?.[i];
      if (o.useRoi && roi) img = cropImage(img, roi);
      const r = t.apply(img);
      if (r.height !== t.height || r.width !== t.width || r.data.length !== per) {
        throw new Error(
          `${list.files[i]}: transform ${t.describe} produced ${r.height}×${r.width}×${r.channels}`,
        );
      }
      out.set(r.data, k * per);
    }),
  );
}

/** Decodes and transforms every file into an in-memory `ImageDataset`. */
export async function materialize(
  list: ImageFileList,
  t: FixedSizeTransform,
  o: MaterializeOptions = {},
): Promise<ImageDataset> {
  const c = o.channels ?? 3;
  const per = t.height * t.width * c;
  const n = list.files.length;
  const images = new Uint8Array(n * per);
  const step = o.concurrency ?? 8;
  for (let i = 0; i < n; i += step) {
    const e = Math.min(n, i + step);
    await decodeChunk(list, t, i, e, o, images.subarray(i * per, e * per));
    o.onProgress?.(e, n);
  }
  return validateDataset({
    name: list.name,
    split: list.split,
    count: n,
    height: t.height,
    width: t.width,
    channels: c,
    images,
    labels: list.labels,
    labelDim: list.labelDim,
    classes: list.classes,
    names: list.files.map((f) => path.basename(f)),
    preprocessing: t.describe,
  });
}

/**
 * What a conversion of `list` through `t` is, as one digest: the files (paths, order),
 * labels, regions, channels and the transform. A resumed conversion must have the same.
 */
export function conversionKey(
  list: ImageFileList,
  t: FixedSizeTransform,
  o: MaterializeOptions = {},
): string {
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify([list.name, list.split, list.classes, list.labelDim, t.describe]));
  h.update(JSON.stringify([t.height, t.width, o.channels ?? 3, o.useRoi ?? false]));
  for (const f of list.files) h.update(f + '\0');
  h.update(JSON.stringify(list.rois ?? null));
  h.update(new Uint8Array(list.labels.buffer, list.labels.byteOffset, list.labels.byteLength));
  return h.digest('hex');
}

/**
 * Streams a file list into a prepared folder (atomic: nothing is left if a file fails).
 * With `resume`, an interrupted conversion of the same list and transform continues
 * where its last progress record left it (`PreparedWriter`, src/data/prepared.ts).
 */
export async function writeFileListPrepared(
  dir: string,
  list: ImageFileList,
  t: FixedSizeTransform,
  o: MaterializeOptions & {
    overwrite?: boolean;
    resume?: Omit<ResumeOptions, 'key'>;
  } = {},
): Promise<PreparedManifest> {
  const c = o.channels ?? 3;
  const per = t.height * t.width * c;
  const w = new PreparedWriter(
    dir,
    {
      name: list.name,
      split: list.split,
      height: t.height,
      width: t.width,
      channels: c,
      classes: list.classes,
      labelDim: list.labelDim,
      preprocessing: t.describe,
    },
    {
      overwrite: o.overwrite,
      resume: o.resume && { ...o.resume, key: conversionKey(list, t, o) },
    },
  );
  try {
    const n = list.files.length;
    const step = o.concurrency ?? 8;
    const buf = new Uint8Array(step * per);
    for (let i = w.count; i < n; i += step) {
      const e = Math.min(n, i + step);
      await decodeChunk(list, t, i, e, o, buf);
      w.append(
        buf.subarray(0, (e - i) * per),
        list.labels.subarray(i * list.labelDim, e * list.labelDim),
        list.files.slice(i, e).map((f) => path.basename(f)),
      );
      o.onProgress?.(e, n);
    }
  } catch (e) {
    w.abort();
    throw e;
  }
  return w.finish();
}
