/** CRC-32 (the zip/gzip polynomial 0xEDB88320), for checking zip entries. */
import * as zlib from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the zip/gzip polynomial) of `bytes`: Node's zlib.crc32 where it exists (≥ 20.15). */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (b: Uint8Array) => number }).crc32;
  return native ? native(bytes) >>> 0 : crc32Portable(bytes);
}

/** The table-driven CRC-32, for Node versions without zlib.crc32. */
export function crc32Portable(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
