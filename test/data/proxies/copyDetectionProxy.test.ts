import { describe, expect, it } from 'vitest';
import { COPYDAYS_BLOCKS } from '../../../src/data/copydays';
import type { ImageDataset } from '../../../src/data/dataset';
import { loadFashionMnist } from '../../../src/data/fashionMnist';
import type { DecodedImage } from '../../../src/data/imageFile';
import { createRng } from '../../../src/random';
import {
  buildCopyDetectionProxy,
  FMNIST_COPYDETECTION_PROXY,
} from '../../../src/data/proxies/copyDetectionProxy';
import { copyDetectionProxyEvaluation } from '../../../src/eval/protocols/copyDetection';
import {
  applyStrongEdit,
  centredCropBox,
  cropImage,
  drawStrongEdit,
  jpegRecode,
  resizeImage,
} from '../../../src/data/proxies/copyEdits';
import { pooledPixels } from './helpers';

/** Mean absolute pixel difference between query q of a block and original q. */
function meanAbsDiff(a: ImageDataset, b: ImageDataset, i: number, j = i): number {
  const per = a.height * a.width;
  let s = 0;
  for (let k = 0; k < per; k++) s += Math.abs(a.images[i * per + k] - b.images[j * per + k]);
  return s / per;
}

function blockDiff(p: Awaited<ReturnType<typeof buildCopyDetectionProxy>>, name: string): number {
  const b = p.blocks.find((x) => x.name === name)!;
  const originals = p.blocks[0].queries;
  let s = 0;
  for (let q = 0; q < b.queries.count; q++) {
    s += meanAbsDiff(b.queries, originals, q, q % originals.count);
  }
  return s / b.queries.count;
}

describe('copy edits (Copydays-like transformations)', () => {
  const ramp: DecodedImage = {
    data: Uint8Array.from({ length: 16 * 16 }, (_, i) => (i * 7) % 256),
    height: 16,
    width: 16,
    channels: 1,
  };

  it('centred crops remove the given share of the area', () => {
    // 112 px, 80 % removed: side round(112·√0.2) = 50, offset floor(62 / 2) = 31.
    expect(centredCropBox(112, 112, 80)).toEqual({ left: 31, top: 31, width: 50, height: 50 });
    expect(centredCropBox(112, 112, 10)).toEqual({ left: 3, top: 3, width: 106, height: 106 });
    expect(() => centredCropBox(10, 10, 100)).toThrow(/removePercent must be in \[0, 100\)/);
    const c = cropImage(ramp, { left: 1, top: 2, width: 2, height: 1 });
    expect(Array.from(c.data)).toEqual([ramp.data[33], ramp.data[34]]);
  });

  it('JPEG re-encoding keeps size and greyscale; lower quality, larger error', async () => {
    const img = resizeImage(ramp, 32, 32);
    const q75 = await jpegRecode(img, 75);
    const q3 = await jpegRecode(img, 3);
    expect([q75.height, q75.width, q75.channels]).toEqual([32, 32, 1]);
    const err = (x: DecodedImage) =>
      x.data.reduce((s, v, i) => s + Math.abs(v - img.data[i]), 0) / x.data.length;
    expect(err(q3)).toBeGreaterThan(err(q75));
    expect(Array.from((await jpegRecode(img, 3)).data)).toEqual(Array.from(q3.data));
    await expect(jpegRecode(img, 0)).rejects.toThrow(/quality must be an integer in \[1, 100\]/);
  });

  it('strong edits: parameters in range, output deterministic', async () => {
    const rng = createRng(2);
    for (let i = 0; i < 20; i++) {
      const e = drawStrongEdit(rng, 112);
      const removed = 1 - (e.crop.width * e.crop.height) / 112 ** 2;
      expect(removed).toBeGreaterThan(0.18);
      expect(removed).toBeLessThan(0.52);
      expect(e.crop.left + e.crop.width).toBeLessThanOrEqual(112);
      expect(Math.abs(e.angle)).toBeLessThanOrEqual(25);
      expect(e.jpegQuality).toBeGreaterThanOrEqual(10);
      expect(e.jpegQuality).toBeLessThanOrEqual(40);
    }
    const e = drawStrongEdit(createRng(5), 16);
    const a = await applyStrongEdit(ramp, e);
    const b = await applyStrongEdit(ramp, e);
    expect(a.channels).toBe(1);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});

describe('fmnist-copydetection-proxy (spec §9.8 on Fashion-MNIST test)', () => {
  const test = loadFashionMnist('test', { limit: 200 });
  const small = { originals: 6, strongCount: 9, distractors: 20, whiteningCount: 60 };

  it('builds the Copydays blocks from disjoint seeded test subsets, deterministically', async () => {
    const p = await buildCopyDetectionProxy(test, small);
    expect(p.blocks.map((b) => b.name)).toEqual(COPYDAYS_BLOCKS);
    expect(p.database.count).toBe(26);
    expect(p.whitening!.count).toBe(60);
    const all = [...p.originalIndices, ...p.distractorIndices, ...p.whiteningIndices];
    expect(new Set(all).size).toBe(86);
    for (const b of p.blocks) {
      expect(b.queries.count).toBe(b.name === 'strong' ? 9 : 6);
      expect([b.queries.height, b.queries.width, b.queries.channels]).toEqual([28, 28, 1]);
      expect(b.queries.name).toBe(FMNIST_COPYDETECTION_PROXY);
      // Query q edits original q (strong: q mod 6); originals are database rows 0…5.
      expect(b.positives).toEqual(Array.from({ length: b.queries.count }, (_, q) => [q % 6]));
      b.queries.labels.forEach((y, q) => expect(y).toBe(test.labels[p.originalIndices[q % 6]]));
    }
    // The `original` block is the originals, which open the database.
    expect(meanAbsDiff(p.blocks[0].queries, p.database, 5)).toBe(0);
    // Heavier edits move the pixels further.
    expect(blockDiff(p, 'jpegqual/3')).toBeGreaterThan(blockDiff(p, 'jpegqual/75'));
    expect(blockDiff(p, 'crops/80')).toBeGreaterThan(blockDiff(p, 'crops/10'));
    expect(blockDiff(p, 'strong')).toBeGreaterThan(blockDiff(p, 'jpegqual/75'));
    const again = await buildCopyDetectionProxy(test, small);
    again.blocks.forEach((b, i) =>
      expect(Array.from(b.queries.images)).toEqual(Array.from(p.blocks[i].queries.images)),
    );
    expect(again.strongEdits).toEqual(p.strongEdits);
  });

  it('rejects sizes the test split cannot hold', async () => {
    await expect(
      buildCopyDetectionProxy(test, { distractors: 100, whiteningCount: 100 }),
    ).rejects.toThrow(
      /originals \+ distractors \+ whiteningCount = 357 exceeds the 200 test images/,
    );
    await expect(buildCopyDetectionProxy(test, { ...small, originals: 0 })).rejects.toThrow(
      /originals must be a positive integer/,
    );
  });

  it('scores every block with and without whitening', async () => {
    const r = await copyDetectionProxyEvaluation({ extract: pooledPixels, test, build: small });
    expect(r.sets.database.name).toBe(FMNIST_COPYDETECTION_PROXY);
    expect([r.sets.originalIndices.length, r.sets.database.count, r.queries]).toEqual([
      6,
      26,
      6 * 19 + 9,
    ]);
    expect(r.sets.whitening!.count).toBe(60);
    expect(Object.keys(r.plain)).toEqual(COPYDAYS_BLOCKS);
    expect(r.plain.original).toBeCloseTo(1, 12);
    expect(r.whitened!.original).toBeCloseTo(1, 12);
    // Mild JPEG barely moves 4×4-pooled pixels.
    expect(r.plain['jpegqual/75']).toBeCloseTo(1, 12);
    const none = await copyDetectionProxyEvaluation({
      extract: pooledPixels,
      test,
      build: { ...small, whiteningCount: 0 },
    });
    expect(none.whitened).toBeNull();
    expect(none.plain).toEqual(r.plain); // same originals/distractors/queries
  });
});
