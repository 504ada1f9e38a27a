/**
 * Revisited Oxford 5k and Paris 6k (§9.7 retrieval). Images stay files (retrieval
 * keeps each image's aspect: the evaluation thumbnails them to `imsize` with
 * `retrievalImage`); this script downloads, extracts into raw/<dataset>/jpg/ (flat, as
 * the ground truth names them), converts gnd_<dataset>.pkl to gnd_<dataset>.json and checks
 * that every listed image exists. No checksums are published for these files: the
 * ground truth's lists are size-checked (lib/sizes.ts).
 * Usage: npx tsx data-scripts/revisited.ts [--which roxford5k|rparis6k|both] [common options]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../src/util/atomic';
import { readRevisitedGroundTruth, revisitedImagePaths } from '../src/data/revisited';
import type { RemoteFile, ScriptOptions } from './lib/common';
import type { ScriptSpec } from './lib/common';
import { extractTo, fetchFiles, rawDir, runMain } from './lib/common';
import { checkCount } from './lib/sizes';

const BASE = 'http://cmp.felk.cvut.cz/revisitop/data/datasets/';
export const REVISITED_FILES: Record<string, RemoteFile[]> = {
  roxford5k: [
    { url: `${BASE}roxford5k/gnd_roxford5k.pkl`, file: 'gnd_roxford5k.pkl' },
    { url: `${BASE}roxford5k/jpg/oxbuild_images-v1.tgz`, file: 'oxbuild_images-v1.tgz' },
  ],
  rparis6k: [
    { url: `${BASE}rparis6k/gnd_rparis6k.pkl`, file: 'gnd_rparis6k.pkl' },
    { url: `${BASE}rparis6k/jpg/paris_1-v1.tgz`, file: 'paris_1-v1.tgz' },
    { url: `${BASE}rparis6k/jpg/paris_2-v1.tgz`, file: 'paris_2-v1.tgz' },
  ],
};

/** Database and query images of each ground truth (size-checked: no checksum is published). */
export const REVISITED_COUNTS: Record<string, { imlist: number; qimlist: number }> = {
  roxford5k: { imlist: 4993, qimlist: 70 },
  rparis6k: { imlist: 6322, qimlist: 70 },
};

/** Moves every .jpg under `from` (any depth) into `to` (flat). */
function flattenJpgs(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const p = path.join(from, e.name);
    if (e.isDirectory()) flattenJpgs(p, to);
    else if (e.name.toLowerCase().endsWith('.jpg')) fs.renameSync(p, path.join(to, e.name));
  }
}

export async function prepareRevisited(o: ScriptOptions): Promise<void> {
  const which = o.extra.which ?? 'both';
  for (const ds of ['roxford5k', 'rparis6k']) {
    if (which !== 'both' && which !== ds) continue;
    const [gndPkl, ...archives] = await fetchFiles(o, REVISITED_FILES[ds]);
    const jpg = path.join(rawDir(o, ds), 'jpg');
    if (!fs.existsSync(jpg)) {
      const tmp = `${jpg}.partial`;
      fs.rmSync(tmp, { recursive: true, force: true });
      for (const a of archives)
        flattenJpgs(extractTo(o, a, ds, `extract-${path.basename(a, '.tgz')}`), tmp);
      fs.renameSync(tmp, jpg);
    }
    const gt = readRevisitedGroundTruth(gndPkl);
    checkCount(gndPkl, 'database images (imlist)', REVISITED_COUNTS[ds].imlist, gt.imlist.length);
    checkCount(gndPkl, 'queries (qimlist)', REVISITED_COUNTS[ds].qimlist, gt.qimlist.length);
    writeJsonAtomic(path.join(rawDir(o, ds), `gnd_${ds}.json`), gt);
    const { database, queries } = revisitedImagePaths(gt, jpg);
    const missing = [...database, ...queries].filter((f) => !fs.existsSync(f));
    if (missing.length > 0)
      throw new Error(`${ds}: ${missing.length} listed images are missing, e.g. ${missing[0]}`);
    o.log(
      `${ds}: ${database.length} database images, ${queries.length} queries, ground truth → gnd_${ds}.json`,
    );
  }
}

/** --help text and the script's own options. */
export const REVISITED_SPEC: ScriptSpec = {
  description:
    'Revisited Oxford 5k / Paris 6k (retrieval, §9.7): images and ground truth under\nraw/<dataset>/. No published checksums: the ground truth is size-checked\n(4 993 / 6 322 database images, 70 queries) and every image it lists must be there.',
  options: {
    which: {
      value: 'W',
      values: ['roxford5k', 'rparis6k', 'both'],
      help: 'which dataset (default both)',
    },
  },
};

if (require.main === module) runMain('revisited', prepareRevisited, REVISITED_SPEC);
