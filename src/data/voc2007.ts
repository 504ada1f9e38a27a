/**
 * PASCAL VOC 2007 classification labels (§9.5; few-shot / full linear SVMs).
 *
 * `VOC2007/ImageSets/Main/<split>.txt` lists the image ids, `<class>_<split>.txt` gives
 * per image +1 (present), −1 (absent) or 0 (only "difficult" instances). The protocol
 * turns 0 into −1 (`difficult: 'negative'`, the default). When the per-class files are
 * absent the labels are derived from `Annotations/<id>.xml` by the same rule (+1 if any
 * non-difficult object of the class, 0 if only difficult ones, −1 otherwise).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ImageFileList } from './fileList';

export const VOC_CLASSES = [
  'aeroplane',
  'bicycle',
  'bird',
  'boat',
  'bottle',
  'bus',
  'car',
  'cat',
  'chair',
  'cow',
  'diningtable',
  'dog',
  'horse',
  'motorbike',
  'person',
  'pottedplant',
  'sheep',
  'sofa',
  'train',
  'tvmonitor',
];

/** Finds the `VOC2007` folder given it, `VOCdevkit`, or the folder holding `VOCdevkit`. */
export function locateVoc2007(root: string): string {
  for (const c of [root, path.join(root, 'VOC2007'), path.join(root, 'VOCdevkit', 'VOC2007')]) {
    if (fs.existsSync(path.join(c, 'ImageSets', 'Main'))) return c;
  }
  throw new Error(`VOC2007 not found under ${root} (expected VOCdevkit/VOC2007/ImageSets/Main)`);
}

function readIds(file: string): string[] {
  if (!fs.existsSync(file)) throw new Error(`${file} not found`);
  return fs
    .readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Objects of an annotation XML: class name and difficult flag. */
export function parseVocAnnotation(
  xml: string,
  file: string,
): { name: string; difficult: boolean }[] {
  const objs: { name: string; difficult: boolean }[] = [];
  for (const m of xml.matchAll(/<object>([\s\S]*?)<\/object>/g)) {
    const name = /<name>\s*([^<]+?)\s*<\/name>/.exec(m[1])?.[1];
    if (!name) throw new Error(`${file}: <object> at character offset ${m.index} has no <name>`);
    const diff = /<difficult>\s*(\d)\s*<\/difficult>/.exec(m[1])?.[1];
    objs.push({ name, difficult: diff === '1' });
  }
  return objs;
}

export interface Voc2007Options {
  /** What to do with label 0 ("difficult"): 'negative' → −1 (§9.5, default), 'keep' → 0. */
  difficult?: 'negative' | 'keep';
}

/** Lists a VOC 2007 split ('trainval', 'test', 'train', 'val') with a [N, 20] label matrix. */
export function readVoc2007(root: string, split: string, opts: Voc2007Options = {}): ImageFileList {
  const voc = locateVoc2007(root);
  const main = path.join(voc, 'ImageSets', 'Main');
  const ids = readIds(path.join(main, `${split}.txt`));
  const row = new Map(ids.map((id, i) => [id, i]));
  const K = VOC_CLASSES.length;
  const labels = new Int32Array(ids.length * K).fill(-1);
  const perClass = VOC_CLASSES.map((c) => path.join(main, `${c}_${split}.txt`));
  if (perClass.every((f) => fs.existsSync(f))) {
    perClass.forEach((file, k) => {
      const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
      lines.forEach((line, ln) => {
        if (!line.trim()) return;
        const [id, v] = line.trim().split(/\s+/);
        const y = Number(v);
        const i = row.get(id);
        if (i === undefined)
          throw new Error(`${file}: line ${ln + 1}: id ${id} is not in ${split}.txt`);
        if (y !== 1 && y !== -1 && y !== 0)
          throw new Error(`${file}: line ${ln + 1}: label ${v} is not 1, -1 or 0`);
        labels[i * K + k] = y;
      });
    });
  } else {
    ids.forEach((id, i) => {
      const file = path.join(voc, 'Annotations', `${id}.xml`);
      if (!fs.existsSync(file))
        throw new Error(`${file} not found (and no per-class label files in ${main})`);
      for (const o of parseVocAnnotation(fs.readFileSync(file, 'utf8'), file)) {
        const k = VOC_CLASSES.indexOf(o.name);
        if (k < 0) throw new Error(`${file}: unknown class '${o.name}'`);
        const cur = labels[i * K + k];
        labels[i * K + k] = o.difficult ? Math.max(cur, 0) : 1;
      }
    });
  }
  if ((opts.difficult ?? 'negative') === 'negative')
    for (let i = 0; i < labels.length; i++) if (labels[i] === 0) labels[i] = -1;
  return {
    name: 'voc2007',
    split,
    files: ids.map((id) => path.join(voc, 'JPEGImages', `${id}.jpg`)),
    labels,
    labelDim: K,
    classes: [...VOC_CLASSES],
  };
}
