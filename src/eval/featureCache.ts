/**
 * The on-disk feature cache: each protocol extracts a split once and every later
 * protocol on the same weights, data and preprocessing reuses it (the reference's
 * --dump_features / --load_features, as one mechanism).
 *
 * Keyed by content, not by path: the teacher's weights digest (`weightsDigest`), the
 * data's identity (`sourceIdentity`: count, geometry, labels and a sample of the images),
 * the split and the transform's name. A folder per key under `<runDir>/features/`:
 * `manifest.json` + `features.f32` (row-major float32 LE) + `labels.i32`, written as a
 * temporary folder renamed into place.
 *
 * Size: an ImageNet bank (1 281 167 × 2048 floats) is 10.5 GB, beyond what one typed-array
 * view (2^32 elements) or one `readFileSync` (2 GiB) can carry, so files are written and
 * read in blocks of at most `IO_BLOCK` bytes straight from/into the feature array.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ImageSource } from '../data/source';
import { commitDir, tempSibling } from '../util/atomic';
import type { FeatureSet } from './features';

/** Largest single read or write (1 GiB): below Node's 2 GiB limit per call. */
export const IO_BLOCK = 1 << 30;

export interface FeatureKey {
  /** Content digest of the weights (`weightsDigest`). */
  weights: string;
  /** Content identity of the images (`sourceIdentity`). */
  data: string;
  /** Dataset name and split (readable parts of the folder name). */
  dataset: string;
  split: string;
  /** Describes the preprocessing (e.g. `teval32-28-bicubic-…`, `crop28-noresize-…`). */
  transform: string;
}

export interface FeatureManifest extends FeatureKey {
  dim: number;
  count: number;
  labelDim: number;
  createdAt: string;
}

/**
 * Identity of a source's content (16 hex digits): count, geometry, classes, every label
 * and 64 images spread evenly over the split. A re-prepared folder, another subset or
 * another limit gives another identity.
 */
export async function sourceIdentity(source: ImageSource): Promise<string> {
  const h = createHash('sha256');
  const { count, height, width, channels, labelDim } = source;
  h.update(JSON.stringify([count, height, width, channels, labelDim, source.classes]));
  h.update(
    new Uint8Array(source.labels.buffer, source.labels.byteOffset, source.labels.byteLength),
  );
  const sample = Math.min(64, count);
  if (sample > 0) {
    const idx = Int32Array.from({ length: sample }, (_, i) => Math.floor((i * count) / sample));
    const buf = new Uint8Array(sample * height * width * channels);
    await source.readImages(idx, buf);
    h.update(buf);
  }
  return h.digest('hex').slice(0, 16);
}

/** The cache folder name of a key: readable, filesystem-safe, unique per content key. */
export function featureCacheName(key: FeatureKey): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  const id = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 12);
  return `${safe(key.dataset)}-${safe(key.split)}-${id}`;
}

/** Writes all of `data` to `file` in blocks of at most `IO_BLOCK` bytes. */
function writeBlocks(file: string, data: Float32Array | Int32Array): void {
  const fd = openSync(file, 'w');
  try {
    for (let off = 0; off < data.byteLength;) {
      const n = Math.min(IO_BLOCK, data.byteLength - off);
      off += writeSync(fd, new Uint8Array(data.buffer, data.byteOffset + off, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads `file` into `out` in blocks, checking its size first (names the file on mismatch). */
function readBlocks(file: string, out: Float32Array | Int32Array): void {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== out.byteLength)
      throw new Error(
        `feature cache file ${file} has ${size} bytes, its manifest implies ${out.byteLength}: the cache is corrupt (delete the folder)`,
      );
    for (let off = 0; off < out.byteLength;) {
      const n = Math.min(IO_BLOCK, out.byteLength - off);
      const r = readSync(fd, new Uint8Array(out.buffer, out.byteOffset + off, n), 0, n, off);
      if (r === 0) throw new Error(`feature cache file ${file}: truncated at byte ${off}`);
      off += r;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads a cached feature set if `dir` holds one for exactly `key`; undefined otherwise. */
export function readCachedFeatures(dir: string, key: FeatureKey): FeatureSet | undefined {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  let m: FeatureManifest;
  try {
    m = JSON.parse(readFileSync(manifestPath, 'utf8')) as FeatureManifest;
  } catch (e) {
    throw new Error(`feature cache ${manifestPath}: not valid JSON (${(e as Error).message})`);
  }
  const fields: (keyof FeatureKey)[] = ['weights', 'data', 'dataset', 'split', 'transform'];
  if (fields.some((f) => m[f] !== key[f])) return undefined;
  for (const f of ['count', 'dim', 'labelDim'] as const) {
    if (!Number.isInteger(m[f]) || m[f] < 0)
      throw new Error(`feature cache ${manifestPath}: field '${f}' must be a non-negative integer`);
  }
  const features = new Float32Array(m.count * m.dim);
  const labels = new Int32Array(m.count * m.labelDim);
  readBlocks(join(dir, 'features.f32'), features);
  readBlocks(join(dir, 'labels.i32'), labels);
  return { features, labels, count: m.count, dim: m.dim, labelDim: m.labelDim };
}

/** Writes a feature set into `dir` atomically (replacing an older cache). */
export function writeCachedFeatures(dir: string, key: FeatureKey, set: FeatureSet): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = tempSibling(dir);
  mkdirSync(tmp);
  const manifest: FeatureManifest = {
    ...key,
    dim: set.dim,
    count: set.count,
    labelDim: set.labelDim,
    createdAt: new Date().toISOString(),
  };
  writeBlocks(join(tmp, 'features.f32'), set.features);
  writeBlocks(join(tmp, 'labels.i32'), set.labels);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  commitDir(tmp, dir, true);
}

/** Reuses `cacheRoot/<name>` when its manifest matches `key`, else extracts and stores. */
export async function cachedFeatures(
  cacheRoot: string,
  key: FeatureKey,
  extract: () => Promise<FeatureSet>,
): Promise<FeatureSet & { cached: boolean }> {
  const dir = join(cacheRoot, featureCacheName(key));
  const hit = readCachedFeatures(dir, key);
  if (hit) return { ...hit, cached: true };
  const set = await extract();
  writeCachedFeatures(dir, key, set);
  return { ...set, cached: false };
}
