/**
 * INRIA Copydays (§9.8 copy detection). Downloads the four archives (VISSL's mirror
 * by default, the INRIA host with `--mirror http://pascal.inrialpes.fr/data/holidays`),
 * arranges raw/copydays/{original,strong,jpegqual/<q>,crops/<c>} as DINO's evaluation
 * expects, and with `--prepare` also writes each block resized to 320×320 (bicubic) as
 * copydays/<block> (jpegqual/30 → copydays/jpegqual-30) with file names. No checksums are
 * published: original/ (157) and strong/ (229) are size-checked, the other blocks hold one
 * image per original.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COPYDAYS_BLOCKS, readCopydays } from '../src/data/copydays';
import { copyDetectionImage } from '../src/data/evalTransforms';
import type { FixedSizeTransform } from '../src/data/fileList';
import { findUnder } from './lib/archive';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { extractTo, fetchFiles, prepareList, preparedDir, rawDir, runMain } from './lib/common';
import { checkCount } from './lib/sizes';

const BASE = 'https://dl.fbaipublicfiles.com/vissl/datasets/';
export const COPYDAYS_FILES = ['original', 'strong', 'jpeg', 'crop'].map((b) => ({
  url: `${BASE}copydays_${b}.tar.gz`,
  file: `copydays_${b}.tar.gz`,
}));

/** Images of the blocks with a fixed count (size-checked: no checksum is published). */
export const COPYDAYS_COUNTS = { original: 157, strong: 229 };

function countJpg(root: string, block: string): number {
  return fs.readdirSync(path.join(root, block)).filter((f) => f.endsWith('.jpg')).length;
}

/** Finds a block folder in an extraction (names differ between releases). */
function locate(root: string, names: string[]): string {
  for (const n of names) {
    const hit = findUnder(root, n);
    if (hit) return hit;
  }
  throw new Error(`none of ${names.join(', ')} found under ${root}`);
}

export async function prepareCopydays(o: ScriptOptions): Promise<void> {
  const archives = await fetchFiles(o, COPYDAYS_FILES);
  const root = rawDir(o, 'copydays');
  const layout: [string, string[]][] = [
    ['original', ['original', 'copydays_original']],
    ['strong', ['strong', 'copydays_strong']],
    ['jpegqual', ['jpegqual', 'copydays_jpeg', 'jpeg']],
    ['crops', ['crops', 'copydays_crop', 'crop']],
  ];
  layout.forEach(([target, names], i) => {
    const dest = path.join(root, target);
    if (fs.existsSync(dest)) return;
    const ex = extractTo(o, archives[i], 'copydays', `extract-${target}`);
    fs.renameSync(locate(ex, names), dest);
  });
  // The other blocks hold one image per original (readCopydays checks that).
  checkCount(
    archives[0],
    'images (original/)',
    COPYDAYS_COUNTS.original,
    countJpg(root, 'original'),
  );
  checkCount(archives[1], 'images (strong/)', COPYDAYS_COUNTS.strong, countJpg(root, 'strong'));
  const cd = readCopydays(root); // checks every block
  o.log(`copydays: ${cd.database.length} originals, ${cd.blocks.length} query blocks`);
  if (o.extra.prepare !== 'true') return;
  const t: FixedSizeTransform = {
    height: 320,
    width: 320,
    describe: 'resize-320x320-bicubic',
    apply: (img) => copyDetectionImage(img, 320),
  };
  for (const b of cd.blocks) {
    const list = {
      name: 'copydays',
      split: b.name,
      files: b.files,
      labels: new Int32Array(b.files.length).fill(-1),
      labelDim: 1,
      classes: [],
    };
    await prepareList(o, preparedDir(o, 'copydays', b.name.replace('/', '-')), list, t);
  }
}

export { COPYDAYS_BLOCKS };

/** --help text and the script's own options. */
export const COPYDAYS_SPEC: ScriptSpec = {
  description:
    'INRIA Copydays (copy detection, §9.8): the four archives into raw/copydays/; with\n--prepare also copydays/<block> at 320×320. No checksums are published: size-checked\n(157 originals, 229 strong, one image per original in the other blocks).',
  options: {
    prepare: { help: 'also write each block resized to 320×320 (bicubic) as a prepared folder' },
  },
};

if (require.main === module) runMain('copydays', prepareCopydays, COPYDAYS_SPEC);
