import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable, crcTable, reflectedCrc } from '../../src/util/crc32';

describe('crc32', () => {
  it('gives the standard check value 0xCBF43926 for "123456789" (both paths)', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    expect(crc32Portable(new Uint8Array(0))).toBe(0);
  });
});

describe('crcTable and reflectedCrc (shared with CRC-32C)', () => {
  it('the published table entries of both polynomials', () => {
    const zip = crcTable(0xedb88320);
    expect([zip[0], zip[1], zip[128], zip[255]]).toEqual([0, 0x77073096, 0xedb88320, 0x2d02ef8d]);
    const castagnoli = crcTable(0x82f63b78);
    expect([castagnoli[1], castagnoli[128]]).toEqual([0xf26b8303, 0x82f63b78]);
  });

  it('reflectedCrc over a byte range equals the CRC of those bytes', () => {
    const check = new TextEncoder().encode('123456789');
    const padded = new Uint8Array([7, ...check, 9, 9]);
    expect(reflectedCrc(crcTable(0xedb88320), padded, 1, 10)).toBe(0xcbf43926);
    expect(reflectedCrc(crcTable(0x82f63b78), check)).toBe(0xe3069283);
  });
});
