/**
 * iNaturalist 2018 (§9.6 few-shot: k train images per class, val2018 as test,
 * 8 142 classes, bilinear T-eval). The k-per-class subset is drawn once with a fixed seed
 * (the reference draws it unseeded, per process — §11.13).
 * Usage: npx tsx data-scripts/inat2018.ts [--k 1] [--seed 0] [common options]
 * Output: inat2018/train-k<k>-seed<seed>, inat2018/val (centre-256, bilinear).
 * The image archive is 120 GB; md5 as torchvision (annotation archives: none published).
 */
import * as fs from 'node:fs';
import { fileListFromPairs } from '../src/data/imageFolder';
import { createRng } from '../src/random';
import { findUnder } from './lib/archive';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';
import { checkCount } from './lib/sizes';

const BASE = 'https://ml-inat-competition-datasets.s3.amazonaws.com/2018/';
export const INAT_FILES = [
  {
    url: `${BASE}train_val2018.tar.gz`,
    file: 'train_val2018.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: 'b1c6952ce38f31868cc50ea72d066cc3' },
  },
  { url: `${BASE}train2018.json.tar.gz`, file: 'train2018.json.tar.gz' },
  { url: `${BASE}val2018.json.tar.gz`, file: 'val2018.json.tar.gz' },
];

interface CocoLike {
  images: { id: number; file_name: string }[];
  annotations: { image_id: number; category_id: number }[];
  categories?: { id: number; name: string }[];
}

/** Images listed by the 2018 annotation files (size-checked: no checksum is published). */
export const INAT_COUNTS = { 'train2018.json': 437513, 'val2018.json': 24426 };

function readAnnotations(file: string, expected: number): [string, number][] {
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as CocoLike;
  if (!Array.isArray(j.images) || !Array.isArray(j.annotations))
    throw new Error(`${file}: expected 'images' and 'annotations' arrays`);
  checkCount(file, 'images', expected, j.images.length);
  const cat = new Map(j.annotations.map((a) => [a.image_id, a.category_id]));
  return j.images.map((im) => {
    const y = cat.get(im.id);
    if (y === undefined) throw new Error(`${file}: image ${im.id} has no annotation`);
    return [im.file_name, y];
  });
}

/** k images per class: each class's list shuffled with one seeded Rng (classes in id order). */
export function lowShotSubset(
  pairs: [string, number][],
  k: number,
  seed: number,
): [string, number][] {
  const byClass = new Map<number, [string, number][]>();
  for (const p of pairs) (byClass.get(p[1]) ?? byClass.set(p[1], []).get(p[1])!).push(p);
  const rng = createRng(seed);
  return [...byClass.keys()]
    .sort((a, b) => a - b)
    .flatMap((c) => rng.shuffle([...byClass.get(c)!]).slice(0, k));
}

export async function prepareInat2018(o: ScriptOptions): Promise<void> {
  const [images, trainJson, valJson] = await fetchFiles(o, INAT_FILES);
  const root = extractTo(o, images, 'inat2018', 'images');
  const tj = findUnder(extractTo(o, trainJson, 'inat2018', 'train-json'), 'train2018.json');
  const vj = findUnder(extractTo(o, valJson, 'inat2018', 'val-json'), 'val2018.json');
  if (!tj || !vj)
    throw new Error('train2018.json / val2018.json not found in the annotation archives');
  const k = Number(o.extra.k ?? 1);
  const seed = Number(o.extra.seed ?? 0);
  if (!(Number.isInteger(k) && k > 0 && Number.isInteger(seed)))
    throw new Error('--k must be a positive integer and --seed an integer');
  const prepare = centrePreparer(o, 'inat2018', 'bilinear');
  const classes = Array.from({ length: 8142 }, (_, i) => String(i));
  const train = lowShotSubset(readAnnotations(tj, INAT_COUNTS['train2018.json']), k, seed);
  await prepare(
    `train-k${k}-seed${seed}`,
    fileListFromPairs(root, train, { name: 'inat2018', split: `train-k${k}`, classes }),
  );
  await prepare(
    'val',
    fileListFromPairs(root, readAnnotations(vj, INAT_COUNTS['val2018.json']), {
      name: 'inat2018',
      split: 'val',
      classes,
    }),
  );
}

/** --help text and the script's own options. */
export const INAT2018_SPEC: ScriptSpec = {
  description:
    'iNaturalist 2018 (few-shot, §9.6): inat2018/train-k<k>-seed<seed> (k images per class,\nseeded) and inat2018/val, centre-256 bilinear. 120 GB; md5 as torchvision.',
  options: {
    k: { value: 'K', min: 1, help: 'training images per class (default 1)' },
    seed: { value: 'S', min: 0, help: 'seed of the per-class draw (default 0)' },
  },
};

if (require.main === module) runMain('inat2018', prepareInat2018, INAT2018_SPEC);
