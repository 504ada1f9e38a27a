/**
 * Oxford-IIIT Pets (§9.2 k-NN: trainval 3 680 / test 3 669, 37 breeds).
 * annotations/{trainval,test}.txt: "Image_id class_id species breed_id", class_id 1…37;
 * class names from the image ids (torchvision's rule). md5s as torchvision.
 * Output: pets/{trainval,test} (centre-256, the protocol's filter; `--filter` → pets-<filter>/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';

export const PETS_FILES = [
  {
    url: 'https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz',
    file: 'oxford-pets-images.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: '5c4f3ee8e5d25df40f4fd59a7f44e54c' },
  },
  {
    url: 'https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz',
    file: 'oxford-pets-annotations.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: '95a8c909bbe2e81eed6a22bccdf3f68f' },
  },
];

export async function preparePets(o: ScriptOptions): Promise<void> {
  const [images, annos] = await fetchFiles(o, PETS_FILES);
  const imgDir = path.join(extractTo(o, images, 'pets', 'images'), 'images');
  const annDir = path.join(extractTo(o, annos, 'pets', 'annotations'), 'annotations');
  const prepare = centrePreparer(o, 'pets', 'bicubic');
  const rows = (split: string) =>
    fs
      .readFileSync(path.join(annDir, `${split}.txt`), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() && !l.startsWith('#'))
      .map((l) => l.trim().split(/\s+/));
  // Class names: "american_pit_bull_terrier" → "American Pit Bull Terrier", indexed by class_id − 1.
  const classes: string[] = [];
  for (const split of ['trainval', 'test']) {
    for (const [id, cls] of rows(split))
      classes[Number(cls) - 1] = id
        .slice(0, id.lastIndexOf('_'))
        .split('_')
        .map((p) => p[0].toUpperCase() + p.slice(1))
        .join(' ');
  }
  for (const split of ['trainval', 'test']) {
    const pairs = rows(split).map(([id, cls]): [string, number] => [`${id}.jpg`, Number(cls) - 1]);
    const list = fileListFromPairs(imgDir, pairs, { name: 'pets', split, classes });
    await prepare(split, list);
  }
}

/** --help text and the script's own options. */
export const PETS_SPEC: ScriptSpec = {
  description:
    'Oxford-IIIT Pets (k-NN, §9.2): pets/{trainval,test}, centre-256. md5s as torchvision.',
};

if (require.main === module) runMain('pets', preparePets, PETS_SPEC);
