/**
 * Image files as an `ImageSource` for feature extraction: each read decodes the files and
 * applies a fixed-size transform (e.g. the copy-detection 320×320 bicubic resize), so a
 * folder of any size streams through `extractFeatures` without a prepared copy. Used for
 * the Copydays distractor and whitening folders (spec §9.8: YFCC100M samples, any images).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FixedSizeTransform } from './fileList';
import { decodeImageFile } from './imageFile';
import { byCodeUnit, IMAGE_EXTENSIONS } from './imageFolder';
import type { ImageSource } from './source';

/** Image files under `dir` (any depth), sorted by path (code units, as Python's sorted). */
export function listImageFiles(dir: string, what = 'image folder'): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new Error(`${what} ${dir} not found (expected a folder of image files)`);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  out.sort(byCodeUnit);
  if (out.length === 0)
    throw new Error(`${what} ${dir} has no image files (${IMAGE_EXTENSIONS.join(' ')})`);
  return out;
}

export interface FileListSourceOptions {
  name: string;
  split: string;
  files: string[];
  transform: FixedSizeTransform;
  /** Decoded channels (default 3, RGB like PIL's convert('RGB')). */
  channels?: 1 | 3;
}

/** A label-less source (labels −1) that decodes and transforms files on each read. */
export function fileListSource(o: FileListSourceOptions): ImageSource {
  const { transform: t } = o;
  const channels = o.channels ?? 3;
  const per = t.height * t.width * channels;
  return {
    name: o.name,
    split: o.split,
    count: o.files.length,
    height: t.height,
    width: t.width,
    channels,
    classes: [],
    labelDim: 1,
    labels: new Int32Array(o.files.length).fill(-1),
    async readImages(indices, out) {
      await Promise.all(
        Array.from(indices, async (i, k) => {
          const file = o.files[i];
          if (file === undefined)
            throw new Error(
              `${o.name}/${o.split}: image index ${i} outside [0, ${o.files.length})`,
            );
          const img = t.apply(await decodeImageFile(file, { channels }));
          if (img.data.length !== per)
            throw new Error(
              `${file}: transform ${t.describe} gave ${img.height}×${img.width}×${img.channels}`,
            );
          out.set(img.data, k * per);
        }),
      );
    },
    close: () => Promise.resolve(),
  };
}
