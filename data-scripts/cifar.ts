/**
 * CIFAR-10 and CIFAR-100, binary versions (§9.9 rows 10–11, k-means protocol).
 * Usage: npx tsx data-scripts/cifar.ts [--which cifar10|cifar100|both] [common options]
 * Output: cifar10/{train,test}, cifar100/{train,test} (raw 32×32 RGB;
 * the protocols upsample with T-eval at feature-extraction time).
 */
import * as path from 'node:path';
import { readCifar10, readCifar100 } from '../src/data/cifar';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { extractTo, fetchFiles, prepareDataset, preparedDir, runMain } from './lib/common';

/** Published md5s from https://www.cs.toronto.edu/~kriz/cifar.html */
export const CIFAR_FILES = {
  cifar10: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    file: 'cifar-10-binary.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: 'c32a1d4ab5d03f1284b67883e8d87530' },
  },
  cifar100: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    file: 'cifar-100-binary.tar.gz',
    checksum: { algorithm: 'md5' as const, hex: '03b5dce01913d631647c71ecec9e9cb8' },
  },
};

/** `files` overrides the archive table (tests serve fixtures from a local mirror). */
export async function prepareCifar(o: ScriptOptions, files = CIFAR_FILES): Promise<void> {
  const which = o.extra.which ?? 'both';
  if (!['cifar10', 'cifar100', 'both'].includes(which))
    throw new Error(`--which must be cifar10, cifar100 or both, got ${which}`);
  for (const name of ['cifar10', 'cifar100'] as const) {
    if (which !== 'both' && which !== name) continue;
    const [archive] = await fetchFiles(o, [files[name]]);
    const raw = extractTo(o, archive, name);
    const dir = path.join(raw, name === 'cifar10' ? 'cifar-10-batches-bin' : 'cifar-100-binary');
    for (const split of ['train', 'test'] as const) {
      const d = name === 'cifar10' ? readCifar10(dir, split) : readCifar100(dir, split);
      prepareDataset(o, preparedDir(o, name, split), d);
    }
  }
}

/** --help text and the script's own options. */
export const CIFAR_SPEC: ScriptSpec = {
  description:
    'CIFAR-10 and CIFAR-100, binary versions (k-means, §9.3): cifar10/{train,test},\ncifar100/{train,test} as raw 32×32 RGB. Published md5s.',
  options: {
    which: {
      value: 'W',
      values: ['cifar10', 'cifar100', 'both'],
      help: 'which dataset (default both)',
    },
  },
};

if (require.main === module) runMain('cifar', (o) => prepareCifar(o), CIFAR_SPEC);
