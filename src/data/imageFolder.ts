/**
 * Image folders, torchvision `ImageFolder` convention: `root/<class>/<image>` with classes
 * sorted by name and indexed in that order, images sorted by path. Used for ImageNet
 * (train/ and a val/ rearranged into class folders) and for any user dataset; the per-
 * dataset scripts lay Food-101, Pets, Flowers-102, … out this way too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageFileList } from './fileList';

export const IMAGE_EXTENSIONS = [
  '.jpg',
  '.jpeg',
  '.png',
  '.ppm',
  '.pgm',
  '.bmp',
  '.tif',
  '.tiff',
  '.webp',
];

/** Ordinal (code-unit) comparison, like Python's sorted() on str. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function walk(dir: string, exts: string[], out: string[]): void {
  for (const e of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => byCodeUnit(a.name, b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, exts, out);
    else if (exts.includes(path.extname(e.name).toLowerCase())) out.push(p);
  }
}

export interface ImageFolderOptions {
  name?: string;
  split?: string;
  extensions?: string[];
  /** Fixed class list (e.g. the train split's, so a val folder missing a class keeps indices). */
  classes?: string[];
}

/** Lists `root/<class>/**` images with class indices. */
export function readImageFolder(root: string, opts: ImageFolderOptions = {}): ImageFileList {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new Error(`image folder ${root} not found (expected root/<class>/<image files>)`);
  }
  const exts = (opts.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
  const found = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodeUnit);
  const classes = opts.classes ?? found;
  const index = new Map(classes.map((c, i) => [c, i]));
  const files: string[] = [];
  const labels: number[] = [];
  for (const c of found) {
    const y = index.get(c);
    if (y === undefined)
      throw new Error(`${path.join(root, c)}: class '${c}' is not in the given class list`);
    const before = files.length;
    walk(path.join(root, c), exts, files);
    for (let i = before; i < files.length; i++) labels.push(y);
  }
  if (files.length === 0) {
    throw new Error(
      `image folder ${root}: no images with extensions ${exts.join(' ')} in class subfolders`,
    );
  }
  return {
    name: opts.name ?? path.basename(path.resolve(root)),
    split: opts.split ?? 'all',
    files,
    labels: Int32Array.from(labels),
    labelDim: 1,
    classes,
  };
}

/** A file list from explicit (relative path, class index) pairs — split files of Food-101, DTD, … */
export function fileListFromPairs(
  root: string,
  pairs: [string, number][],
  meta: { name: string; split: string; classes: string[] },
): ImageFileList {
  const files = pairs.map(([f]) => path.join(root, f));
  const labels = Int32Array.from(pairs.map(([, y]) => y));
  labels.forEach((y, i) => {
    if (!(y >= 0 && y < meta.classes.length)) {
      throw new Error(
        `${meta.name}/${meta.split}: label ${y} of ${pairs[i][0]} outside [0, ${meta.classes.length})`,
      );
    }
  });
  return { ...meta, files, labels, labelDim: 1 };
}
