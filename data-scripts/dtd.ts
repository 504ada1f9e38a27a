/**
 * Describable Textures Dataset, split 1 (§9.3 k-means: train 1 880 / test 1 880,
 * 47 classes, bilinear T-eval). labels/{train,test}1.txt list "class/image.jpg".
 * Output: dtd/{train,test} (centre-256, the protocol's filter; `--filter` → dtd-<filter>/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';

export const DTD_FILE = {
  url: 'https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz',
  file: 'dtd-r1.0.1.tar.gz',
  checksum: { algorithm: 'md5' as const, hex: 'fff73e5086ae6bdbea199a49dfb8a4c1' },
};

export async function prepareDtd(o: ScriptOptions): Promise<void> {
  const [archive] = await fetchFiles(o, [DTD_FILE]);
  const root = path.join(extractTo(o, archive, 'dtd'), 'dtd');
  const partition = o.extra.partition ?? '1';
  const prepare = centrePreparer(o, 'dtd', 'bilinear');
  const read = (split: string) =>
    fs
      .readFileSync(path.join(root, 'labels', `${split}${partition}.txt`), 'utf8')
      .split(/\r?\n/)
      .filter(Boolean);
  // torchvision: sorted class names of the split (all 47 occur in each); take train's for both.
  const classes = [...new Set(read('train').map((l) => l.split('/')[0]))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  for (const split of ['train', 'test']) {
    const lines = read(split);
    const pairs = lines.map((l): [string, number] => [l.trim(), index.get(l.split('/')[0])!]);
    const list = fileListFromPairs(path.join(root, 'images'), pairs, {
      name: 'dtd',
      split: `${split}${partition}`,
      classes,
    });
    await prepare(`${split}${partition}`, list);
  }
}

/** --help text and the script's own options. */
export const DTD_SPEC: ScriptSpec = {
  description:
    'Describable Textures Dataset (k-means, §9.3): dtd/{train,test} of one partition,\ncentre-256. md5 as torchvision.',
  options: { partition: { value: 'N', min: 1, help: 'the official partition 1…10 (default 1)' } },
};

if (require.main === module) runMain('dtd', prepareDtd, DTD_SPEC);
