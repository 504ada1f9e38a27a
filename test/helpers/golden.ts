/**
 * Loads the golden vectors from ../shared/golden (beside the project root, as laid out
 * for developers and CI). See ../shared/golden/README.md for the fields.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const GOLDEN_DIR =
  process.env.CARP_GOLDEN_DIR ?? join(PROJECT_ROOT, '..', 'shared', 'golden');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadGolden<T = any>(file: string): { cases: T[] } {
  const path = join(GOLDEN_DIR, file);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { cases: T[] };
  } catch (e) {
    throw new Error(`cannot read golden file ${path}: ${(e as Error).message}`);
  }
}
