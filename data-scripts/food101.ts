/**
 * Food-101 (§9.2 k-NN: train 75 750 / test 25 250, 101 classes, bicubic T-eval).
 * meta/{train,test}.txt list "class/image_id"; classes = sorted class names (torchvision).
 * Output: food101/{train,test} (centre-256, the protocol's filter; `--filter` → food101-<filter>/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';

export const FOOD101_FILE = {
  url: 'http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz',
  file: 'food-101.tar.gz',
  checksum: { algorithm: 'md5' as const, hex: '85eeb15f3717b99a5da872d97d918f87' },
};

export async function prepareFood101(o: ScriptOptions): Promise<void> {
  const [archive] = await fetchFiles(o, [FOOD101_FILE]);
  const root = path.join(extractTo(o, archive, 'food101'), 'food-101');
  const prepare = centrePreparer(o, 'food101', 'bicubic');
  for (const split of ['train', 'test']) {
    const listFile = path.join(root, 'meta', `${split}.txt`);
    const ids = fs.readFileSync(listFile, 'utf8').split(/\r?\n/).filter(Boolean);
    const classes = [...new Set(ids.map((l) => l.split('/')[0]))].sort();
    const index = new Map(classes.map((c, i) => [c, i]));
    const pairs = ids.map((l): [string, number] => [`${l}.jpg`, index.get(l.split('/')[0])!]);
    const list = fileListFromPairs(path.join(root, 'images'), pairs, {
      name: 'food101',
      split,
      classes,
    });
    await prepare(split, list);
  }
}

/** --help text and the script's own options. */
export const FOOD101_SPEC: ScriptSpec = {
  description: 'Food-101 (k-NN, §9.2): food101/{train,test}, centre-256. md5 as torchvision.',
};

if (require.main === module) runMain('food101', prepareFood101, FOOD101_SPEC);
