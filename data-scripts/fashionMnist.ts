/**
 * Fashion-MNIST from Debian's `dataset-fashion-mnist` (no download: `apt-get install
 * dataset-fashion-mnist`), or from `--source DIR` holding the four IDX files.
 * Output: fashion-mnist/{train,test} (28×28×1). The kit can also read the
 * Debian files directly (src/data/fashionMnist.ts); this script is for uniformity.
 */
import { loadFashionMnist } from '../src/data/fashionMnist';
import type { ScriptOptions } from './lib/common';
import { prepareDataset, preparedDir, runMain } from './lib/common';

export async function prepareFashionMnist(o: ScriptOptions): Promise<void> {
  for (const split of ['train', 'test'] as const) {
    prepareDataset(
      o,
      preparedDir(o, 'fashion-mnist', split),
      loadFashionMnist(split, { dir: o.extra.source }),
    );
  }
}

if (require.main === module) runMain('fashion-mnist', prepareFashionMnist);
