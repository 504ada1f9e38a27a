import { describe, expect, it } from 'vitest';
import {
  copyEditsGalleryFigure,
  imageRowsFigure,
  multiCropGridFigure,
  neighboursGalleryFigure,
  partitionFigure,
  pickImages,
  prototypeGalleryFigure,
  retrievalGalleryFigure,
  viewToUint8,
} from '../../src/viz/notebookImages';

/** n grey h×w images, image i filled with value i+1. */
function holder(n: number, h = 2, w = 2, labels: number[] = []) {
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) images.fill(i + 1, i * h * w, (i + 1) * h * w);
  return { images, count: n, height: h, width: w, channels: 1, labels: Int32Array.from(labels) };
}
const captions = (fig: { layout: Record<string, unknown> }) =>
  (fig.layout.annotations as { text: string }[]).map((a) => a.text);

describe('pickImages / viewToUint8', () => {
  it('copies the chosen images in order and rejects bad indices', () => {
    const p = pickImages(holder(3), [2, 0]);
    expect(p.shape).toEqual([2, 2, 2, 1]);
    expect(Array.from(p.images)).toEqual([3, 3, 3, 3, 1, 1, 1, 1]);
    expect(() => pickImages(holder(3), [3])).toThrow(/outside/);
  });

  it('undoes the normalisation, clamps, and enlarges by nearest neighbour', () => {
    // (x/255 − 0.5)/0.25: 0 → 127.5, 2 → 255, −3 → clamped 0
    const v = viewToUint8(Float32Array.from([0, 2, -3, 0]), [1, 2, 2, 1], [0.5], [0.25], 4);
    expect(v.shape).toEqual([1, 4, 4, 1]);
    expect(Array.from(v.images.subarray(0, 4))).toEqual([128, 128, 255, 255]);
    expect(Array.from(v.images.subarray(8, 12))).toEqual([0, 0, 128, 128]);
  });
});

describe('galleries', () => {
  it('imageRowsFigure pads short rows and keeps captions aligned', () => {
    const fig = imageRowsFigure([
      { images: pickImages(holder(3), [0, 1, 2]), captions: ['a', 'b', 'c'] },
      { images: pickImages(holder(3), [1]), captions: ['d'] },
    ]);
    expect(captions(fig)).toEqual(['a', 'b', 'c', 'd', '', '']);
    expect(() =>
      imageRowsFigure([
        { images: pickImages(holder(1), [0]) },
        { images: pickImages(holder(1, 3, 3), [0]) },
      ]),
    ).toThrow(/row 1/);
  });

  it('multiCropGridFigure: one row per image, original then every view', () => {
    const originals = pickImages(holder(2, 4, 4), [0, 1]);
    const g = {
      data: new Float32Array(2 * 4 * 4),
      shape: [2, 4, 4, 1] as [number, number, number, number],
    };
    const l = {
      data: new Float32Array(2 * 2 * 2),
      shape: [2, 2, 2, 1] as [number, number, number, number],
    };
    const fig = multiCropGridFigure(originals, [g, g, l], { mean: [0], std: [1] });
    expect(captions(fig)).toEqual([
      ...['original', 'global A', 'global B', 'local 1'],
      ...['original', 'global A', 'global B', 'local 1'],
    ]);
  });

  it('partitionFigure colours each prototype by its block, one row per draw', () => {
    const fig = partitionFigure([Int32Array.from([3, 0, 2, 1])], 5, 2);
    expect(fig.data[0].z).toEqual([[0, 1, 1, 0, null]]); // prototype 4 left out (P ∤ K)
  });

  it('prototypeGalleryFigure: rows of assigned images with class captions; sizes in the title', () => {
    const d = { ...holder(4, 2, 2, [0, 1, 0, 1]), classes: ['shirt', 'bag'] };
    const fig = prototypeGalleryFigure(d, [5, 7, 5, 5], [5, 7, 9], { perPrototype: 2 });
    expect(captions(fig)).toEqual(['#5: shirt', 'shirt', '#7: bag', '']);
    expect(fig.layout.title?.text).toContain('#5: 3, #7: 1');
  });

  it('retrieval and neighbour galleries mark each result', () => {
    const q = holder(1, 2, 2, [0]);
    const db = { ...holder(4, 2, 2, [0, 1, 0, 2]), classes: ['a', 'b', 'c'] };
    const r = retrievalGalleryFigure(q, db, [[2, 1, 0, 3]], [{ easy: [0], hard: [2], junk: [1] }], {
      topK: 4,
    });
    expect(captions(r)).toEqual(['query 0', '1: ✓ hard', '2: ~ junk', '3: ✓ easy', '4: ✗']);
    const n = neighboursGalleryFigure(q, db, [[1, 2]], { topK: 2 });
    expect(captions(n)).toEqual(['query: a', '✗ b', '✓ a']);
  });

  it('copyEditsGalleryFigure puts query i of each block next to original i', () => {
    const blocks = [
      { name: 'original', queries: holder(2) },
      { name: 'strong', queries: holder(3) },
    ];
    const fig = copyEditsGalleryFigure(blocks, { originals: [1] });
    expect(captions(fig)).toEqual(['original', 'strong']);
    expect(() => copyEditsGalleryFigure(blocks, { blocks: ['crops/50'] })).toThrow(/no block/);
  });
});
