import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import {
  copyDetectionBatch,
  copyDetectionImage,
  multiScaleResize,
  pythonRound,
  retrievalImage,
  tevalBatch,
  tevalGeometry,
  tevalImage,
  thumbnailSize,
} from '../../src/data/evalTransforms';
import { IMAGENET_MEAN, IMAGENET_STD, denormalizeImages } from '../../src/data/normalize';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'pil-golden.json'), 'utf8'));
const IMG = Uint8Array.from(golden.image.flat(2) as number[]);

beforeAll(() => initTestBackend('cpu'));

describe('T-eval', () => {
  it('computes torchvision Resize(256) + CenterCrop(224) geometry', () => {
    expect(tevalGeometry(375, 500)).toEqual({
      resizedHeight: 256,
      resizedWidth: 341,
      top: 16,
      left: 58,
      crop: 224,
    });
    expect(tevalGeometry(500, 375)).toMatchObject({
      resizedHeight: 341,
      resizedWidth: 256,
      top: 58,
      left: 16,
    });
    // (257 − 224)/2 = 16.5 → Python rounds to 16 (even)
    expect(tevalGeometry(256, 257).left).toBe(pythonRound(16.5));
    expect(pythonRound(16.5)).toBe(16);
    expect(pythonRound(17.5)).toBe(18);
    expect(pythonRound(-0.5)).toBe(-0);
    expect(() => tevalGeometry(32, 32, { resize: 32, crop: 40 })).toThrow(/crop 40 is larger/);
  });

  it('matches torchvision (PIL) resize + centre crop within one level', () => {
    const c = golden.cases.find((x: { name: string }) => x.name === 'teval');
    const img = { data: IMG, height: 7, width: 9, channels: 3 };
    const out = tevalImage(img, { resize: 8, crop: 6, filter: 'bilinear' });
    expect([out.height, out.width]).toEqual([6, 6]);
    expectClose(out.data, c.out.flat(2), { atol: 1.01, rtol: 0 });
  });

  it('tensor path equals the CPU path and normalises with ImageNet statistics', async () => {
    await expectNoLeak(() => {
      const img = { data: IMG, height: 7, width: 9, channels: 3 };
      const cpu = tevalImage(img, { resize: 8, crop: 6 });
      const x = tf.tensor4d(Float32Array.from(IMG), [1, 7, 9, 3]);
      const y = tevalBatch(x, { resize: 8, crop: 6 });
      expect(y.shape).toEqual([1, 6, 6, 3]);
      const back = denormalizeImages(y, IMAGENET_MEAN, IMAGENET_STD);
      expectClose(back.dataSync(), cpu.data, { atol: 1.01, rtol: 0 });
      tf.dispose([x, y, back]);
    });
  });
});

describe('centre-256 storage (data-scripts)', () => {
  it('T-eval of a centre-256 image equals T-eval of the original', () => {
    for (const [h, w] of [
      [300, 451],
      [451, 300],
      [257, 256],
      [180, 181],
    ]) {
      const img = {
        data: Uint8Array.from({ length: h * w * 3 }, (_, i) => (i * 7919) % 251),
        height: h,
        width: w,
        channels: 3,
      };
      for (const filter of ['bicubic', 'bilinear'] as const) {
        const direct = tevalImage(img, { filter });
        const stored = tevalImage(img, { resize: 256, crop: 256, filter });
        expect(tevalImage(stored, { filter }).data).toEqual(direct.data);
      }
    }
  });
});

describe('retrieval and copy-detection transforms', () => {
  it('reproduces PIL thumbnail sizes', () => {
    // [h, w] → PIL 9.4 thumbnail((512, 512)) results
    const cases: [number, number, number, number][] = [
      [768, 1024, 384, 512],
      [1024, 768, 512, 384],
      [333, 500, 333, 500],
      [999, 1000, 511, 512],
      [513, 511, 512, 510],
      [1, 2000, 1, 512],
    ];
    for (const [h, w, eh, ew] of cases) expect(thumbnailSize(h, w, 512)).toEqual([eh, ew]);
    const small = { data: IMG, height: 7, width: 9, channels: 3 };
    expect(retrievalImage(small, 512)).toBe(small); // never upscales
    const r = retrievalImage(small, 5);
    expect([r.height, r.width]).toEqual([4, 5]);
  });

  it('multi-scale resize uses floor sizes and preserves a constant image', async () => {
    await expectNoLeak(() => {
      const x = tf.fill([2, 9, 7, 3], 0.25) as tf.Tensor4D;
      const outs = multiScaleResize(x);
      expect(outs.map((o) => o.shape)).toEqual([
        [2, 9, 7, 3],
        [2, 6, 4, 3],
        [2, 4, 3, 3],
      ]);
      for (const o of outs) expectClose(o.dataSync(), new Float32Array(o.size).fill(0.25));
      tf.dispose([x, ...outs]);
    });
  });

  it('copy detection resizes to 320×320 ignoring aspect on both paths', async () => {
    const img = { data: IMG, height: 7, width: 9, channels: 3 };
    const cpu = copyDetectionImage(img, 12);
    expect([cpu.height, cpu.width]).toEqual([12, 12]);
    await expectNoLeak(() => {
      const x = tf.tensor4d(Float32Array.from(IMG), [1, 7, 9, 3]);
      const y = copyDetectionBatch(x, { size: 12 });
      expect(y.shape).toEqual([1, 12, 12, 3]);
      const back = denormalizeImages(y, IMAGENET_MEAN, IMAGENET_STD);
      // the CPU path rounds between passes (as PIL); upscaling amplifies that by ≤ ~1.3
      expectClose(back.dataSync(), cpu.data, { atol: 1.6, rtol: 0 });
      const d = copyDetectionBatch(x);
      expect(d.shape).toEqual([1, 320, 320, 3]);
      tf.dispose([x, y, back, d]);
    });
  });
});
