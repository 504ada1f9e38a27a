import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import type { ImageDataset } from '../../src/data/dataset';
import {
  cachedExtractor,
  extractChecked,
  networkExtractor,
  pixelFeatures,
} from '../../src/eval/extractors';
import { extractFeatures, sliceFeatures } from '../../src/eval/features';
import { memorySource } from '../../src/data/source';
import { createCarpParams } from '../../src/models/carpNetwork';
import { createRng } from '../../src/random';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';
import { tinyCarpSpec } from '../helpers/fixtures';

function toy(count: number, seed = 1): ImageDataset {
  const rng = createRng(seed);
  return {
    name: 'toy',
    split: 'test',
    count,
    height: 4,
    width: 4,
    channels: 1,
    images: new Uint8Array(count * 16).map(() => rng.int(256)),
    labels: Int32Array.from({ length: count }, (_, i) => i % 2),
    classes: ['a', 'b'],
  };
}

describe('feature extractors', () => {
  const cache = mkdtempSync(join(tmpdir(), 'carp-proxy-cache-'));
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  it('pixelFeatures: pixels / 255, one row per image', async () => {
    const d = toy(2);
    const f = await pixelFeatures(d);
    expect(f.dim).toBe(16);
    expect(f.count).toBe(2);
    expect(f.features[17]).toBeCloseTo(d.images[17] / 255, 7);
    const s = sliceFeatures(f, 1, 2);
    expect(s.count).toBe(1);
    expect(Array.from(s.features)).toEqual(Array.from(f.features.subarray(16)));
  });

  it('extractChecked rejects an extractor that drops rows', async () => {
    const bad = async (d: ImageDataset) => ({ ...(await pixelFeatures(d)), count: 1 });
    await expect(extractChecked(bad, toy(3), 'the toy set')).rejects.toThrow(
      /returned 1 rows of dim 16 .* for the toy set: expected 3 rows/,
    );
  });

  it('cachedExtractor reuses features of identical pixels only', async () => {
    let calls = 0;
    const counting = (d: ImageDataset) => {
      calls++;
      return pixelFeatures(d);
    };
    const ex = cachedExtractor(cache, 'ckpt-a', 'pixels', counting);
    const a = await ex(toy(3));
    const b = await ex(toy(3));
    expect(calls).toBe(1);
    expect(Array.from(b.features)).toEqual(Array.from(a.features));
    await ex(toy(3, 2)); // same name/split/count, other pixels: extracted again
    expect(calls).toBe(2);
  });

  it('networkExtractor runs the frozen backbone (eval mode) without leaking', async () => {
    const spec = tinyCarpSpec(6);
    const params = createCarpParams(spec, createRng(0), 'proxy-extractor-test');
    const ex = networkExtractor({
      params,
      spec,
      transform: (x) => tf.div(x, 255) as Tensor4D,
      batchSize: 2,
    });
    const f = await expectNoLeak(() => ex(toy(3)));
    expect(f.count).toBe(3);
    expect(f.dim).toBe(16);
    const direct = await extractFeatures({
      params,
      spec,
      source: memorySource(toy(3)),
      transform: (x) => tf.div(x, 255) as Tensor4D,
      batchSize: 3,
    });
    expect(Array.from(f.features)).toEqual(Array.from(direct.features));
    params.dispose();
  });
});
