/**
 * Stanford Cars (§9.2 k-NN: train 8 144 / test 8 041, 196 classes). The original
 * host (ai.stanford.edu/~jkrause) no longer serves the files: place car_devkit.tgz,
 * cars_train.tgz, cars_test.tgz and cars_test_annos_withlabels.mat in downloads/
 * (md5s as torchvision). Annotations are MAT structs (fname, class 1…196).
 * Output: stanford-cars/{train,test} (centre-256, the protocol's filter; `--filter` → stanford-cars-<filter>/).
 */
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';
import type { MatValue } from './lib/mat';
import { matNumbers, readMat } from './lib/mat';

const HOW =
  'The original Stanford host is gone; obtain the file from a mirror of the Stanford Cars release and place it in downloads/.';
export const CARS_FILES = [
  {
    url: null,
    file: 'car_devkit.tgz',
    checksum: { algorithm: 'md5' as const, hex: 'c3b158d763b6e2245038c8ad08e45376' },
    howToGet: HOW,
  },
  {
    url: null,
    file: 'cars_train.tgz',
    checksum: { algorithm: 'md5' as const, hex: '065e5b463ae28d29e77c1b4b166cfe61' },
    howToGet: HOW,
  },
  {
    url: null,
    file: 'cars_test.tgz',
    checksum: { algorithm: 'md5' as const, hex: '4ce7ebf6a94d07f1952d94dd34c4d501' },
    howToGet: HOW,
  },
  {
    url: null,
    file: 'cars_test_annos_withlabels.mat',
    checksum: { algorithm: 'md5' as const, hex: 'b0a2b23655a3edd16d84508592a98d10' },
    howToGet: HOW,
  },
];

function annotations(file: string): [string, number][] {
  const a = readMat(file).annotations;
  if (!Array.isArray(a)) throw new Error(`${file}: expected a struct array 'annotations'`);
  return (a as Record<string, MatValue>[]).map((r, i) => {
    if (typeof r.fname !== 'string')
      throw new Error(`${file}: annotations(${i + 1}).fname is not a string`);
    return [r.fname, matNumbers(r.class, `${file}: annotations(${i + 1}).class`)[0] - 1];
  });
}

export async function prepareCars(o: ScriptOptions): Promise<void> {
  const [devkitTgz, trainTgz, testTgz, testAnnos] = await fetchFiles(o, CARS_FILES);
  const devkit = path.join(extractTo(o, devkitTgz, 'stanford-cars', 'devkit'), 'devkit');
  const trainDir = path.join(extractTo(o, trainTgz, 'stanford-cars', 'train'), 'cars_train');
  const testDir = path.join(extractTo(o, testTgz, 'stanford-cars', 'test'), 'cars_test');
  const names = readMat(path.join(devkit, 'cars_meta.mat')).class_names;
  if (!Array.isArray(names) || names.length !== 196)
    throw new Error(`${devkit}/cars_meta.mat: expected 196 class_names`);
  const classes = names as string[];
  const prepare = centrePreparer(o, 'stanford-cars', 'bicubic');
  const splits: [string, string, string][] = [
    ['train', trainDir, path.join(devkit, 'cars_train_annos.mat')],
    ['test', testDir, testAnnos],
  ];
  for (const [split, dir, annos] of splits) {
    const list = fileListFromPairs(dir, annotations(annos), {
      name: 'stanford-cars',
      split,
      classes,
    });
    await prepare(split, list);
  }
}

/** --help text and the script's own options. */
export const STANFORD_CARS_SPEC: ScriptSpec = {
  description:
    'Stanford Cars (k-NN, §9.2; user-provided archives in downloads/, md5s as torchvision):\nstanford-cars/{train,test}, centre-256.',
};

if (require.main === module) runMain('stanford-cars', prepareCars, STANFORD_CARS_SPEC);
