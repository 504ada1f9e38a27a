/**
 * INRIA Copydays blocks (§9.8, following DINO's `eval_copy_detection.py`).
 *
 * Layout under the root: `original/`, `strong/`, `jpegqual/{3,5,8,10,15,20,30,50,75}/`,
 * `crops/{10,15,20,30,40,50,60,70,80}/`, each a folder of .jpg files read in sorted
 * name order. Every block is a query set; the database is `original` (157 images).
 * Ground truth: query i of a block ↔ original i, except for `strong`, whose queries match
 * the originals sharing the first 4 characters of the file name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { byCodeUnit } from './imageFolder';

export const COPYDAYS_BLOCKS: string[] = [
  'original',
  'strong',
  ...[3, 5, 8, 10, 15, 20, 30, 50, 75].map((q) => `jpegqual/${q}`),
  ...[10, 15, 20, 30, 40, 50, 60, 70, 80].map((c) => `crops/${c}`),
];

export interface CopydaysBlock {
  /** e.g. `strong`, `jpegqual/30`. */
  name: string;
  files: string[];
  /** Per query: indices of matching originals. */
  positives: number[][];
}

export interface Copydays {
  database: string[];
  blocks: CopydaysBlock[];
}

function listJpg(dir: string): string[] {
  if (!fs.existsSync(dir)) throw new Error(`Copydays block folder ${dir} not found`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.jpg'))
    .sort(byCodeUnit)
    .map((f) => path.join(dir, f));
}

/** Lists the blocks (all 20 by default) with their ground truth. */
export function readCopydays(root: string, blocks: string[] = COPYDAYS_BLOCKS): Copydays {
  const database = listJpg(path.join(root, 'original'));
  const origNames = database.map((f) => path.basename(f));
  const out = blocks.map((name) => {
    const files = listJpg(path.join(root, ...name.split('/')));
    let positives: number[][];
    if (name === 'strong') {
      positives = files.map((f) => {
        const key = path.basename(f).slice(0, 4);
        return origNames.flatMap((o, j) => (o.slice(0, 4) === key ? [j] : []));
      });
    } else {
      if (files.length !== database.length) {
        throw new Error(
          `Copydays block ${name}: ${files.length} images, expected one per original (${database.length})`,
        );
      }
      positives = files.map((_, i) => [i]);
    }
    return { name, files, positives };
  });
  return { database, blocks: out };
}
