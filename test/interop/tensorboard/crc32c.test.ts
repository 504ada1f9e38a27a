/** CRC-32C and TFRecord's masked CRC (the checksums of every TensorBoard record). */
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc, maskedCrc32c } from '../../../src/interop/tensorboard/crc32c';

const CHECK = new TextEncoder().encode('123456789');

describe('CRC-32C', () => {
  it('check value of "123456789" and the masked form', () => {
    expect(crc32c(CHECK)).toBe(0xe3069283);
    // mask(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8 mod 2^32, worked by hand:
    // 0xe3069283 >>> 15 = 0x1c60d, << 17 = 0x25060000 → 0x2507c60d + 0xa282ead8 = 0xc78ab0e5.
    expect(maskedCrc32c(CHECK)).toBe(0xc78ab0e5);
    expect(maskCrc(0xe3069283)).toBe(0xc78ab0e5);
  });

  it('the empty input is 0; its mask is the mask constant alone', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(maskCrc(0)).toBe(0xa282ead8);
  });

  it('a byte range [start, end) is the CRC of those bytes alone', () => {
    const whole = new Uint8Array([0xff, 0xff, ...CHECK, 0x00]);
    expect(crc32c(whole, 2, 11)).toBe(0xe3069283);
    expect(maskedCrc32c(whole, 2, 11)).toBe(0xc78ab0e5);
  });

  it('the mask wraps mod 2^32: mask(0xffffffff) = 0xffffffff + 0xa282ead8 − 2^32', () => {
    expect(maskCrc(0xffffffff)).toBe(0xa282ead7);
  });
});
