/**
 * CRC-32C (Castagnoli: reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF),
 * and TFRecord's masked form: rotate right by 15 bits, add 0xA282EAD8 (mod 2^32). TFRecord
 * masks the CRCs it stores so that a CRC over data that itself contains CRCs stays strong.
 */
import { crcTable, reflectedCrc } from '../../util/crc32';

const TABLE = crcTable(0x82f63b78);

/** CRC-32C of bytes [start, end) of `data`. */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  return reflectedCrc(TABLE, data, start, end);
}

/** TFRecord's masked CRC of a CRC-32C value. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Masked CRC-32C of bytes [start, end) of `data`. */
export function maskedCrc32c(data: Uint8Array, start = 0, end = data.length): number {
  return maskCrc(crc32c(data, start, end));
}
