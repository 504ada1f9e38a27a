/**
 * Country-211 (§9.2 k-NN: train 31 650 / test 21 100, 211 countries), the CLIP
 * release: country211/{train,valid,test}/<ISO code>/*.jpg (image folders). md5 as torchvision.
 * Output: country211/{train,test} (centre-256, the protocol's filter; `--filter` → country211-<filter>/).
 */
import * as path from 'node:path';
import { readImageFolder } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';

export const COUNTRY211_FILE = {
  url: 'https://openaipublic.azureedge.net/clip/data/country211.tgz',
  file: 'country211.tgz',
  checksum: { algorithm: 'md5' as const, hex: '84988d7644798601126c29e9877aab6a' },
};

export async function prepareCountry211(o: ScriptOptions): Promise<void> {
  const [archive] = await fetchFiles(o, [COUNTRY211_FILE]);
  const root = path.join(extractTo(o, archive, 'country211'), 'country211');
  const prepare = centrePreparer(o, 'country211', 'bicubic');
  const classes = readImageFolder(path.join(root, 'train')).classes;
  for (const split of ['train', 'test']) {
    await prepare(
      split,
      readImageFolder(path.join(root, split), { name: 'country211', split, classes }),
    );
  }
}

/** --help text and the script's own options. */
export const COUNTRY211_SPEC: ScriptSpec = {
  description: 'Country-211 (k-NN, §9.2): country211/{train,test}, centre-256. md5 as torchvision.',
};

if (require.main === module) runMain('country211', prepareCountry211, COUNTRY211_SPEC);
