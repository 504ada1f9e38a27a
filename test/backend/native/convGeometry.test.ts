import { describe, expect, it } from 'vitest';
import { convInfo, geometry } from '../../../src/backend/native/convGeometry';

describe('the addon conv geometry', () => {
  it('lists the 15 numbers in readConv order: a 3×3 stride-2 conv, symmetric padding 1', () => {
    const info = convInfo([2, 7, 9, 4], [3, 3, 4, 6], {
      strides: 2,
      pad: [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    });
    // n, h, w, c, o, fh, fw, sh, sw, dh, dw, top, left, ho, wo: ho = ⌊(7 + 2 − 3)/2⌋ + 1 = 4,
    // wo = ⌊(9 + 2 − 3)/2⌋ + 1 = 5.
    expect(geometry(info)).toEqual([2, 7, 9, 4, 6, 3, 3, 2, 2, 1, 1, 1, 1, 4, 5]);
  });

  it("takes 'valid' and a dilation", () => {
    const info = convInfo([1, 8, 8, 2], [3, 3, 2, 2], {
      strides: 1,
      pad: 'valid',
      dilations: 2,
      dataFormat: 'NHWC',
    });
    // The dilated 3×3 spans 5 pixels: 8 − 5 + 1 = 4.
    expect(geometry(info)).toEqual([1, 8, 8, 2, 2, 3, 3, 1, 1, 2, 2, 0, 0, 4, 4]);
  });
});
