/**
 * STL-10 binary version (§9.9 row 8, k-NN: labelled train vs test).
 * Usage: npx tsx data-scripts/stl10.ts [--unlabeled] [common options]
 * Output: stl10/{train,test[,unlabeled]} (raw 96×96 RGB).
 */
import * as path from 'node:path';
import { readStl10 } from '../src/data/stl10';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { extractTo, fetchFiles, prepareDataset, preparedDir, runMain } from './lib/common';

/** md5 as published with torchvision's STL10 loader. */
export const STL10_FILE = {
  url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz',
  file: 'stl10_binary.tar.gz',
  checksum: { algorithm: 'md5' as const, hex: '91f7769df0f17e558f3565bffb0c7dfb' },
};

export async function prepareStl10(o: ScriptOptions): Promise<void> {
  const [archive] = await fetchFiles(o, [STL10_FILE]);
  const dir = path.join(extractTo(o, archive, 'stl10'), 'stl10_binary');
  const splits = ['train', 'test', ...(o.extra.unlabeled ? ['unlabeled'] : [])] as (
    'train' | 'test' | 'unlabeled'
  )[];
  for (const split of splits)
    prepareDataset(o, preparedDir(o, 'stl10', split), readStl10(dir, split));
}

/** --help text and the script's own options. */
export const STL10_SPEC: ScriptSpec = {
  description:
    'STL-10 binary (k-NN, §9.2): stl10/{train,test[,unlabeled]} as raw 96×96 RGB. md5 as torchvision.',
  options: { unlabeled: { help: 'also write the 100 000 unlabeled images' } },
};

if (require.main === module) runMain('stl10', prepareStl10, STL10_SPEC);
