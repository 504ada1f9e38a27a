/**
 * GTSRB (§9.9 row 9; k-NN with bicubic T-eval, k-means with bilinear T-eval).
 * Usage: npx tsx data-scripts/gtsrb.ts [--filter bicubic|bilinear] [common options]
 * Archives and md5s as torchvision's GTSRB loader (train 26 640, test 12 630 images).
 * Output: gtsrb/{train,test} (centre-256, the protocol's filter; `--filter` → gtsrb-<filter>/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readGtsrb } from '../src/data/gtsrb';
import { findUnder } from './lib/archive';
import type { ScriptOptions, ScriptSpec } from './lib/common';
import { centrePreparer, extractTo, fetchFiles, runMain } from './lib/common';

const BASE = 'https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/';
export const GTSRB_FILES = [
  {
    url: `${BASE}GTSRB-Training_fixed.zip`,
    file: 'GTSRB-Training_fixed.zip',
    checksum: { algorithm: 'md5' as const, hex: '513f3c79a4c5141765e10e952eaa2478' },
  },
  {
    url: `${BASE}GTSRB_Final_Test_Images.zip`,
    file: 'GTSRB_Final_Test_Images.zip',
    checksum: { algorithm: 'md5' as const, hex: 'c7e4e6327067d32654124b0fe9e82185' },
  },
  {
    url: `${BASE}GTSRB_Final_Test_GT.zip`,
    file: 'GTSRB_Final_Test_GT.zip',
    checksum: { algorithm: 'md5' as const, hex: 'fe31e9c9270bbcd7b84b7f21a9d9d9e5' },
  },
];

export async function prepareGtsrb(o: ScriptOptions): Promise<void> {
  const [train, testImages, testGt] = await fetchFiles(o, GTSRB_FILES);
  const trainDir = extractTo(o, train, 'gtsrb', 'train');
  const testDir = extractTo(o, testImages, 'gtsrb', 'test');
  const gtDir = extractTo(o, testGt, 'gtsrb', 'test-gt');
  // Put the ground-truth CSV where the reader looks for it (next to the test images).
  const csv = findUnder(gtDir, 'GT-final_test.csv');
  if (!csv) throw new Error(`GT-final_test.csv not found in ${gtDir}`);
  fs.copyFileSync(csv, path.join(testDir, 'GT-final_test.csv'));
  const prepare = centrePreparer(o, 'gtsrb', 'bicubic');
  await prepare('train', readGtsrb(trainDir, 'train'));
  await prepare('test', readGtsrb(testDir, 'test'));
}

/** --help text and the script's own options. */
export const GTSRB_SPEC: ScriptSpec = {
  description:
    'GTSRB (k-NN bicubic, k-means with --filter bilinear): gtsrb/{train,test}, centre-256.\nmd5s as torchvision.',
};

if (require.main === module) runMain('gtsrb', prepareGtsrb, GTSRB_SPEC);
