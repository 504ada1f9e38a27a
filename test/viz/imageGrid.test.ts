import { describe, expect, it } from 'vitest';
import { imageGridFigure, tileImages } from '../../src/viz/imageGrid';

describe('tileImages', () => {
  it('places each image at its tile, white padding between', () => {
    // three 1×2 grey images, 2 per row, pad 1: mosaic 2 rows × (2·(2+1)+1 = 7) wide
    const imgs = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const m = tileImages(imgs, [3, 1, 2, 1], 2, 1);
    expect([m.width, m.height, m.cols, m.rows, m.channels]).toEqual([7, 5, 2, 2, 1]);
    const row = (y: number) => Array.from(m.pixels.subarray(y * 7, y * 7 + 7));
    expect(row(0)).toEqual([255, 255, 255, 255, 255, 255, 255]);
    expect(row(1)).toEqual([255, 1, 2, 255, 3, 4, 255]);
    expect(row(3)).toEqual([255, 5, 6, 255, 255, 255, 255]);
  });

  it('leaves caption room above each tile and transparent gaps for RGBA', () => {
    const m = tileImages(new Uint8Array(4).fill(9), [1, 1, 1, 4], 1, 1, 2);
    expect(m.height).toBe(1 + 2 + 1 + 1);
    expect(Array.from(m.pixels.subarray(0, 4))).toEqual([255, 255, 255, 0]);
    expect(Array.from(m.pixels.subarray((3 * 3 + 1) * 4, (3 * 3 + 1) * 4 + 4))).toEqual([
      9, 9, 9, 9,
    ]);
  });

  it('validates the shape', () => {
    expect(() => tileImages(new Uint8Array(3), [1, 1, 1, 2], 1, 0)).toThrow(/channels/);
    expect(() => tileImages(new Uint8Array(3), [2, 1, 1, 1], 1, 0)).toThrow(/needs 2/);
  });
});

describe('imageGridFigure', () => {
  it('is one image trace with a PNG data URI, square pixels and one caption per image', () => {
    const imgs = new Uint8Array(4 * 28 * 28).map((_, i) => i % 251);
    const fig = imageGridFigure(imgs, [4, 28, 28, 1], { cols: 2, labels: ['a', 'b', 'c', 'd'] });
    expect(fig.data).toHaveLength(1);
    expect(fig.data[0].type).toBe('image');
    expect(String(fig.data[0].source)).toMatch(/^data:image\/png;base64,/);
    expect(fig.layout.yaxis).toMatchObject({ scaleanchor: 'x' });
    const ann = fig.layout.annotations as { text: string; x: number }[];
    expect(ann.map((a) => a.text)).toEqual(['a', 'b', 'c', 'd']);
    expect(ann[1].x).toBe(2 + 30 + 14); // second column: pad + (w + pad) + w/2
    expect(() => imageGridFigure(imgs, [4, 28, 28, 1], { labels: ['x'] })).toThrow(/labels/);
  });
});
