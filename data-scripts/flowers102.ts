/**
 * Oxford Flowers-102 (§9.2 k-NN: train 1 020 / test 6 149, 102 classes).
 * imagelabels.mat (labels 1…102 per image) and setid.mat (trnid / valid / tstid image
 * numbers) are read with our MAT reader; images jpg/image_NNNNN.jpg. md5s as torchvision.
 * Output: flowers102/{train,test} (centre-256, the protocol's filter; `--filter` → flowers102-<filter>/).
 */
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';
import { matNumbers, readMat } from './lib/mat';

const BASE = 'https://www.robots.ox.ac.uk/~vgg/data/flowers/102/';
export const FLOWERS_FILES = [
  {
    url: `${BASE}102flowers.tgz`,
    file: '102flowers.tgz',
    checksum: { algorithm: 'md5' as const, hex: '52808999861908f626f3c1f4e79d11fa' },
  },
  {
    url: `${BASE}imagelabels.mat`,
    file: 'imagelabels.mat',
    checksum: { algorithm: 'md5' as const, hex: 'e0620be6f572b9609742df49c70aed4d' },
  },
  {
    url: `${BASE}setid.mat`,
    file: 'setid.mat',
    checksum: { algorithm: 'md5' as const, hex: 'a5357ecc9cb78c4bef273ce3793fc85c' },
  },
];

export async function prepareFlowers(o: ScriptOptions): Promise<void> {
  const [tgz, labelsMat, setidMat] = await fetchFiles(o, FLOWERS_FILES);
  const jpg = path.join(extractTo(o, tgz, 'flowers102'), 'jpg');
  const labels = matNumbers(readMat(labelsMat).labels, `${labelsMat}: labels`);
  const sets = readMat(setidMat);
  const classes = Array.from({ length: 102 }, (_, i) => String(i + 1));
  const prepare = centrePreparer(o, 'flowers102', 'bicubic');
  for (const [split, key] of [
    ['train', 'trnid'],
    ['test', 'tstid'],
  ] as const) {
    const ids = matNumbers(sets[key], `${setidMat}: ${key}`);
    const pairs = ids.map((id): [string, number] => [
      `image_${String(id).padStart(5, '0')}.jpg`,
      labels[id - 1] - 1,
    ]);
    const list = fileListFromPairs(jpg, pairs, { name: 'flowers102', split, classes });
    await prepare(split, list);
  }
}

/** --help text and the script's own options. */
export const FLOWERS102_SPEC: ScriptSpec = {
  description:
    'Oxford Flowers-102 (k-NN, §9.2): flowers102/{train,test}, centre-256. md5s as torchvision.',
};

if (require.main === module) runMain('flowers102', prepareFlowers, FLOWERS102_SPEC);
