/**
 * Minimal PNG encoder (8-bit grey, RGB or RGBA; no filtering) for image grids:
 * synchronous and dependency-free (Node's zlib), so figure builders stay pure
 * functions. sharp could encode too, but only asynchronously.
 * Format: PNG (W3C, 2nd ed.) sections 5 (chunks) and 11.2.2 (IHDR), CRC-32 of ISO 3309.
 */
import { deflateSync } from 'node:zlib';

let crcTable: Uint32Array | undefined;

function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

const COLOR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

/**
 * Encodes row-major interleaved pixels `[height, width, channels]` (uint8) as PNG.
 * `channels` 1 = grey, 3 = RGB, 4 = RGBA.
 */
export function encodePng(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
): Buffer {
  if (!(channels in COLOR_TYPE))
    throw new RangeError(`channels must be 1, 3 or 4, got ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`bad PNG size ${width}×${height}`);
  }
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new RangeError(
      `expected ${stride * height} bytes for ${width}×${height}×${channels}, got ${pixels.length}`,
    );
  }
  // Each scanline starts with its filter type byte (0 = none).
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(
      raw,
      y * (stride + 1) + 1,
    );
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering (each row says "none")
  ihdr[12] = 0; // no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** `encodePng` as a `data:image/png;base64,…` URI (for plotly `image` traces and <img>). */
export function pngDataUri(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
): string {
  return `data:image/png;base64,${encodePng(pixels, width, height, channels).toString('base64')}`;
}
