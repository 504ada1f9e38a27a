/**
 * FGVC-Aircraft 2013b, variant level (§9.2 k-NN: trainval 6 667 / test 3 333, 100
 * classes). data/images_variant_{trainval,test}.txt hold "image_id variant name";
 * classes in data/variants.txt order (torchvision). No published checksum: the split
 * lists are size-checked (lib/sizes.ts).
 * Output: fgvc-aircraft/{trainval,test} (centre-256, the protocol's filter; `--filter` → fgvc-aircraft-<filter>/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileListFromPairs } from '../src/data/imageFolder';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';
import { checkCount } from './lib/sizes';

export const AIRCRAFT_FILE = {
  url: 'https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz',
  file: 'fgvc-aircraft-2013b.tar.gz',
};

/** Images per split of the 2013b release (size-checked: no checksum is published). */
export const AIRCRAFT_COUNTS: Record<string, number> = { trainval: 6667, test: 3333 };

export async function prepareAircraft(o: ScriptOptions): Promise<void> {
  const [archive] = await fetchFiles(o, [AIRCRAFT_FILE]);
  const data = path.join(extractTo(o, archive, 'fgvc-aircraft'), 'fgvc-aircraft-2013b', 'data');
  const classes = fs
    .readFileSync(path.join(data, 'variants.txt'), 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  const index = new Map(classes.map((c, i) => [c, i]));
  const prepare = centrePreparer(o, 'fgvc-aircraft', 'bicubic');
  for (const split of ['trainval', 'test']) {
    const file = path.join(data, `images_variant_${split}.txt`);
    const pairs = fs
      .readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .filter(Boolean)
      .map((line, i): [string, number] => {
        const sp = line.indexOf(' ');
        const y = index.get(line.slice(sp + 1).trim());
        if (sp < 0 || y === undefined)
          throw new Error(`${file}: line ${i + 1}: unknown variant in '${line}'`);
        return [`${line.slice(0, sp)}.jpg`, y];
      });
    checkCount(file, 'images', AIRCRAFT_COUNTS[split], pairs.length);
    const list = fileListFromPairs(path.join(data, 'images'), pairs, {
      name: 'fgvc-aircraft',
      split,
      classes,
    });
    await prepare(split, list);
  }
}

/** --help text and the script's own options. */
export const FGVC_AIRCRAFT_SPEC: ScriptSpec = {
  description:
    'FGVC-Aircraft 2013b, variants (k-NN, §9.2): fgvc-aircraft/{trainval,test}, centre-256.\nNo published checksum: size-checked (trainval 6 667, test 3 333 images).',
};

if (require.main === module) runMain('fgvc-aircraft', prepareAircraft, FGVC_AIRCRAFT_SPEC);
