import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/data/source';
import {
  cachedFeatures,
  featureCacheName,
  readCachedFeatures,
  sourceIdentity,
  writeCachedFeatures,
  type FeatureKey,
} from '../../src/eval/featureCache';

const key: FeatureKey = {
  weights: 'w1',
  data: 'd1',
  dataset: 'toy',
  split: 'test',
  transform: 't',
};
const small = () => ({
  features: Float32Array.from([1, 2, 3, 4]),
  labels: Int32Array.from([0, 1]),
  count: 2,
  dim: 2,
  labelDim: 1,
});

describe('the feature cache', () => {
  it('caches by content key: other weights or other data are other folders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'feat-'));
    let calls = 0;
    const make = async () => {
      calls++;
      return small();
    };
    const a = await cachedFeatures(root, key, make);
    const b = await cachedFeatures(root, key, make);
    expect([a.cached, b.cached]).toEqual([false, true]);
    expect(Array.from(b.features)).toEqual([1, 2, 3, 4]);
    expect(Array.from(b.labels)).toEqual([0, 1]);
    expect(calls).toBe(1);
    await cachedFeatures(root, { ...key, weights: 'w2' }, make);
    await cachedFeatures(root, { ...key, data: 'd2' }, make);
    expect(calls).toBe(3);
    expect(readdirSync(root)).toHaveLength(3);
    expect(featureCacheName(key)).toMatch(/^toy-test-[0-9a-f]{12}$/);
    // A manifest for another key in the folder is not a hit.
    expect(
      readCachedFeatures(join(root, featureCacheName(key)), { ...key, transform: 'u' }),
    ).toBeUndefined();
  });

  it('a truncated features file is an error naming it, not a silent re-use', () => {
    const root = mkdtempSync(join(tmpdir(), 'feat-bad-'));
    const dir = join(root, featureCacheName(key));
    writeCachedFeatures(dir, key, small());
    writeFileSync(join(dir, 'features.f32'), new Uint8Array(12));
    expect(() => readCachedFeatures(dir, key)).toThrow(
      /features\.f32 has 12 bytes, its manifest implies 16: the cache is corrupt/,
    );
  });

  it('sourceIdentity: same content → same identity; any label, size or sampled pixel → another', async () => {
    const images = new Uint8Array(10 * 4).map((_, i) => i % 251);
    const d = {
      name: 'toy',
      split: 'test',
      count: 10,
      height: 2,
      width: 2,
      channels: 1,
      images,
      labels: Int32Array.from({ length: 10 }, (_, i) => i % 2),
      classes: ['a', 'b'],
    };
    const id = await sourceIdentity(memorySource(d));
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(await sourceIdentity(memorySource({ ...d, images: images.slice() }))).toBe(id);
    const labels = d.labels.slice();
    labels[3] = 0;
    expect(await sourceIdentity(memorySource({ ...d, labels }))).not.toBe(id);
    const px = images.slice();
    px[5 * 4] ^= 1; // image 5 is one of the sampled images (all 10 are, below 64)
    expect(await sourceIdentity(memorySource({ ...d, images: px }))).not.toBe(id);
  });

  // An ImageNet-size bank is 10.5 GB: more than one typed-array view (2^32 elements) or one
  // readFileSync (2 GiB) can carry. 4.4 GB of zeros with marks beyond the 4 GiB offset.
  it('writes and reads a cache over 4 GiB (blockwise), values beyond 4 GiB intact', () => {
    const root = mkdtempSync(join(tmpdir(), 'feat-big-'));
    try {
      const dim = 1000;
      const count = 1_100_000; // 1.1e9 floats = 4.4e9 bytes
      const features = new Float32Array(count * dim); // zero pages: no memory until written
      const marks = [0, 2 ** 30 + 7, count * dim - 1]; // float index 2^30+7 sits past byte 2^32
      marks.forEach((m, i) => (features[m] = i + 1.5));
      const labels = new Int32Array(count);
      labels[count - 1] = 9;
      const dir = join(root, featureCacheName(key));
      writeCachedFeatures(dir, key, { features, labels, count, dim, labelDim: 1 });
      expect(statSync(join(dir, 'features.f32')).size).toBe(count * dim * 4);
      const back = readCachedFeatures(dir, key)!;
      expect(back.count).toBe(count);
      expect(marks.map((m) => back.features[m])).toEqual([1.5, 2.5, 3.5]);
      expect(back.features[2 ** 30 + 8]).toBe(0);
      expect(back.labels[count - 1]).toBe(9);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 180_000);

  it('reads a sparse 4.4 GB cache file written by someone else (positions past 4 GiB)', () => {
    const root = mkdtempSync(join(tmpdir(), 'feat-sparse-'));
    try {
      const dim = 1100;
      const count = 1_000_000;
      const dir = join(root, 'c');
      writeCachedFeatures(dir, key, small()); // a valid folder, then the big files swapped in
      const fd = openSync(join(dir, 'features.f32'), 'w');
      const at = (count * dim - 1) * 4; // the last float, at byte ≈ 4.4e9
      writeSync(fd, new Uint8Array(Float32Array.from([42]).buffer), 0, 4, at);
      closeSync(fd);
      writeFileSync(join(dir, 'labels.i32'), new Uint8Array(count * 4));
      const m = { ...key, count, dim, labelDim: 1, createdAt: new Date().toISOString() };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      const back = readCachedFeatures(dir, key)!;
      expect(back.features[count * dim - 1]).toBe(42);
      expect(back.features[count * dim - 2]).toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(existsSync(root)).toBe(false);
  }, 180_000);
});
