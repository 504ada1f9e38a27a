/**
 * ImageNet-1k (ILSVRC 2012; §9.9 row 1: pre-training, linear, k-NN, k-means).
 * Registration-only: either place ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar and
 * ILSVRC2012_devkit_t12.tar.gz in downloads/ (md5s as torchvision), or pass
 * `--source DIR` holding train/<wnid>/*.JPEG and val/<wnid>/*.JPEG.
 * Output (centre-256 storage, see lib/common.ts; bicubic, `--filter bilinear` for k-means):
 *   imagenet/train, imagenet/val        ≈197 KiB per image (≈250 GB for train; `--train-size S`
 *                                       stores centre-S instead, in imagenet[-<filter>]-centreS/,
 *                                       which T-eval would upsample — for small experiments)
 *   imagenet/train<name>                with --subset FILE (e.g. SimCLR's 10percent.txt, §9.3)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commitDir, tempSibling } from '../src/util/atomic';
import type { ImageFileList } from '../src/data/fileList';
import { readImageFolder } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, rawDir, runMain } from './lib/common';
import { matNumbers, readMat } from './lib/mat';

const HOW =
  'ImageNet needs registration at https://image-net.org; download it there and place the file in downloads/ (or use --source).';
export const IMAGENET_FILES = [
  {
    url: null,
    file: 'ILSVRC2012_img_train.tar',
    checksum: { algorithm: 'md5' as const, hex: '1d675b47d978889d74fa0da5fadfb00e' },
    howToGet: HOW,
  },
  {
    url: null,
    file: 'ILSVRC2012_img_val.tar',
    checksum: { algorithm: 'md5' as const, hex: '29b22e2961454d5413ddabcf34fc5622' },
    howToGet: HOW,
  },
  {
    url: null,
    file: 'ILSVRC2012_devkit_t12.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: 'fa75699e90414af021442c21a62c3abf' },
    howToGet: HOW,
  },
];

/** Unpacks the archives into raw/imagenet/{train,val}/<wnid>/ (skipped when present). */
async function unpackArchives(o: ScriptOptions): Promise<string> {
  const root = rawDir(o, 'imagenet');
  const [trainTar, valTar, devkitTgz] = await fetchFiles(o, IMAGENET_FILES);
  const train = path.join(root, 'train');
  if (!fs.existsSync(train)) {
    const tars = extractTo(o, trainTar, 'imagenet', 'train-tars');
    const tmp = tempSibling(train);
    for (const t of fs
      .readdirSync(tars)
      .filter((f) => f.endsWith('.tar'))
      .sort()) {
      const dir = path.join(tmp, path.basename(t, '.tar'));
      fs.mkdirSync(dir, { recursive: true });
      const r = spawnSync('tar', ['-xf', path.join(tars, t), '-C', dir]);
      if (r.status !== 0) throw new Error(`extracting ${t}: tar exited with ${r.status}`);
    }
    commitDir(tmp, train, false);
    fs.rmSync(tars, { recursive: true, force: true });
  }
  const val = path.join(root, 'val');
  if (!fs.existsSync(val)) {
    const devkit = path.join(
      extractTo(o, devkitTgz, 'imagenet', 'devkit'),
      'ILSVRC2012_devkit_t12',
      'data',
    );
    const synsets = readMat(path.join(devkit, 'meta.mat')).synsets as Record<string, unknown>[];
    const wnidOf = new Map<number, string>();
    for (const s of synsets)
      wnidOf.set(matNumbers(s.ILSVRC2012_ID as never, 'ILSVRC2012_ID')[0], s.WNID as string);
    const truth = fs
      .readFileSync(path.join(devkit, 'ILSVRC2012_validation_ground_truth.txt'), 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
    const flat = extractTo(o, valTar, 'imagenet', 'val-flat');
    const files = fs
      .readdirSync(flat)
      .filter((f) => f.endsWith('.JPEG'))
      .sort();
    if (files.length !== truth.length)
      throw new Error(`${flat}: ${files.length} images but ${truth.length} ground-truth labels`);
    const tmp = tempSibling(val);
    files.forEach((f, i) => {
      const dir = path.join(tmp, wnidOf.get(truth[i])!);
      fs.mkdirSync(dir, { recursive: true });
      fs.renameSync(path.join(flat, f), path.join(dir, f));
    });
    commitDir(tmp, val, false);
  }
  return root;
}

export async function prepareImagenet(o: ScriptOptions): Promise<void> {
  const root = o.extra.source ? path.resolve(o.extra.source) : await unpackArchives(o);
  const size = Number(o.extra['train-size'] ?? 256);
  const prepare = centrePreparer(o, 'imagenet', 'bicubic'); // subsets: centre 256
  const prepareSized = centrePreparer(o, 'imagenet', 'bicubic', size);
  const train = readImageFolder(path.join(root, 'train'), { name: 'imagenet', split: 'train' });
  const val = readImageFolder(path.join(root, 'val'), {
    name: 'imagenet',
    split: 'val',
    classes: train.classes,
  });
  if (o.extra.subset) {
    const keep = new Set(fs.readFileSync(o.extra.subset, 'utf8').split(/\s+/).filter(Boolean));
    const idx = train.files.flatMap((f, i) => (keep.has(path.basename(f)) ? [i] : []));
    const sub: ImageFileList = {
      ...train,
      split: 'train-subset',
      files: idx.map((i) => train.files[i]),
      labels: Int32Array.from(idx, (i) => train.labels[i]),
    };
    const name = path.basename(o.extra.subset).replace(/\.txt$/, '');
    await prepare(`train${name}`, sub);
  }
  // Both splits centre-`size` (default 256: T-eval is then exactly the centre 224 crop).
  const v = size !== 256 ? `centre${size}` : undefined;
  await prepareSized('val', val, v);
  if (o.extra['skip-train'] !== 'true') await prepareSized('train', train, v);
}

/** --help text and the script's own options. */
export const IMAGENET_SPEC: ScriptSpec = {
  description:
    'ImageNet-1k (registration only): place ILSVRC2012_img_{train,val}.tar and\nILSVRC2012_devkit_t12.tar.gz in downloads/ (md5s as torchvision) or pass --source;\nwrites imagenet/{train,val} centre-256 (≈250 GB for train).',
  options: {
    source: { value: 'DIR', help: 'use DIR/{train,val}/<wnid>/*.JPEG instead of the archives' },
    'train-size': {
      value: 'S',
      min: 1,
      help: 'store centre-S instead of centre-256 (in imagenet-centreS/)',
    },
    subset: {
      value: 'FILE',
      help: 'also write the images listed in FILE (e.g. 10percent.txt) as train<name>',
    },
    'skip-train': { help: 'write val (and --subset) only' },
  },
};

if (require.main === module) runMain('imagenet', prepareImagenet, IMAGENET_SPEC);
