/**
 * Table-driven reflected CRCs: CRC-32 (the zip/gzip polynomial 0xEDB88320), for checking
 * zip entries, and the table and loop that CRC-32C (TensorBoard's records) shares with it.
 */
import * as zlib from 'node:zlib';

/** The 256-entry lookup table of the reflected CRC with polynomial `poly`. */
export function crcTable(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The CRC of bytes [start, end) of `data` with `table`, initial and final XOR 0xFFFFFFFF. */
export function reflectedCrc(
  table: Uint32Array,
  data: Uint8Array,
  start = 0,
  end = data.length,
): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = crcTable(0xedb88320);

/** CRC-32 (the zip/gzip polynomial) of `bytes`: Node's zlib.crc32 where it exists (≥ 20.15). */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  return native ? native(bytes) >>> 0 : crc32Portable(bytes);
}

/** The table-driven CRC-32, for Node versions without zlib.crc32. */
export function crc32Portable(bytes: Uint8Array): number {
  return reflectedCrc(CRC_TABLE, bytes);
}
