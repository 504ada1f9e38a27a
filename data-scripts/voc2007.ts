/**
 * PASCAL VOC 2007 classification (§9.5: trainval 5 011 / test 4 952, 20 classes,
 * multi-label, bilinear T-eval; difficult (0) labels become −1 as the protocol does).
 * Output: voc2007/{trainval,test} (centre-256, bilinear) with labelDim 20
 * (`--difficult keep` → voc2007-difficult0/, keeping the 0 labels).
 */
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';
import { readVoc2007 } from '../src/data/voc2007';

const BASE = 'http://host.robots.ox.ac.uk/pascal/VOC/voc2007/';
export const VOC_FILES = [
  {
    url: `${BASE}VOCtrainval_06-Nov-2007.tar`,
    file: 'VOCtrainval_06-Nov-2007.tar',
    checksum: { algorithm: 'md5' as const, hex: 'c52e279531787c972589f7e41ab4ae64' },
  },
  {
    url: `${BASE}VOCtest_06-Nov-2007.tar`,
    file: 'VOCtest_06-Nov-2007.tar',
    checksum: { algorithm: 'md5' as const, hex: 'b6e924de25625d8de591ea690078ad9f' },
  },
];

export async function prepareVoc2007(o: ScriptOptions): Promise<void> {
  const [trainval, test] = await fetchFiles(o, VOC_FILES);
  const prepare = centrePreparer(o, 'voc2007', 'bilinear');
  const difficult = o.extra.difficult === 'keep' ? 'keep' : 'negative';
  for (const [split, archive] of [
    ['trainval', trainval],
    ['test', test],
  ] as const) {
    const root = extractTo(o, archive, 'voc2007', split);
    const list = readVoc2007(root, split, { difficult });
    await prepare(split, list, difficult === 'keep' ? 'difficult0' : undefined);
  }
}

/** --help text and the script's own options. */
export const VOC2007_SPEC: ScriptSpec = {
  description:
    'PASCAL VOC 2007 classification (few-shot / SVM, §9.5): voc2007/{trainval,test},\ncentre-256 bilinear, labelDim 20. md5s as torchvision.',
  options: {
    difficult: {
      value: 'D',
      values: ['negative', 'keep'],
      help: "difficult labels: negative (−1, the protocol's; default) or keep (0, voc2007-difficult0/)",
    },
  },
};

if (require.main === module) runMain('voc2007', prepareVoc2007, VOC2007_SPEC);
