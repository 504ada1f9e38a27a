/**
 * Loads the golden vectors vendored in test/fixtures/golden (fields, provenance and
 * tolerances: test/fixtures/golden/README.md).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const GOLDEN_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'golden');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadGolden<T = any>(file: string): { cases: T[] } {
  const path = join(GOLDEN_DIR, file);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { cases: T[] };
  } catch (e) {
    throw new Error(`cannot read golden file ${path}: ${(e as Error).message}`);
  }
}
