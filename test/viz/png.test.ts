import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, pngDataUri } from '../../src/viz/png';

describe('encodePng', () => {
  it.each([1, 3, 4] as const)(
    'round-trips %i-channel pixels through a real decoder (sharp)',
    async (c) => {
      const w = 5;
      const h = 3;
      const px = Uint8Array.from({ length: w * h * c }, (_, i) => (i * 37) % 256);
      const png = encodePng(px, w, h, c);
      expect((await sharp(png).metadata()).channels).toBe(c);
      // sharp widens grey to sRGB on output unless asked to keep one channel
      const decoder = c === 1 ? sharp(png).extractChannel(0) : sharp(png);
      const { data, info } = await decoder.raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([w, h, c]);
      expect(Array.from(data)).toEqual(Array.from(px));
    },
  );

  it('rejects wrong sizes and channel counts', () => {
    expect(() => encodePng(new Uint8Array(5), 2, 2, 1)).toThrow(/expected 4 bytes/);
    expect(() => encodePng(new Uint8Array(4), 2, 2, 2 as 1)).toThrow(/channels/);
    expect(() => encodePng(new Uint8Array(0), 0, 1, 1)).toThrow(/size/);
  });

  it('pngDataUri starts with the PNG signature in base64', () => {
    expect(pngDataUri(new Uint8Array([0]), 1, 1, 1)).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
  });
});
