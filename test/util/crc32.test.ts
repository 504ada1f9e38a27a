import { describe, expect, it } from 'vitest';
import { crc32, crc32Portable } from '../../src/util/crc32';

describe('crc32', () => {
  it('gives the standard check value 0xCBF43926 for "123456789" (both paths)', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    expect(crc32Portable(new Uint8Array(0))).toBe(0);
  });
});
