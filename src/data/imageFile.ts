/**
 * Decoding image files to uint8 HWC pixels: JPEG / PNG (and the other formats libvips
 * reads) through `sharp`, binary PPM/PGM (GTSRB ships PPM, which sharp's libvips build
 * lacks) with our own parser. Colour images come out RGB like PIL's `convert('RGB')`:
 * alpha dropped, greyscale replicated to 3 channels. No EXIF rotation (PIL does none).
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { FormatError } from '../util/formatError';

const latin1 = new TextDecoder('latin1');

export interface DecodedImage {
  /** [height, width, channels] uint8. */
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

/** Parses a binary PPM (P6) or PGM (P5) with maxval ≤ 255. */
export function parsePnm(buf: Uint8Array, file = '<buffer>'): DecodedImage {
  let pos = 0;
  const fail = (msg: string): never => {
    throw new FormatError(file, `invalid PPM/PGM at byte offset ${pos}: ${msg}`, { offset: pos });
  };
  const token = (): string => {
    // Skip whitespace and '#' comments between header fields.
    for (;;) {
      while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]))) pos++;
      if (buf[pos] === 0x23) while (pos < buf.length && buf[pos] !== 0x0a) pos++;
      else break;
    }
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]))) pos++;
    if (pos === start) fail('unexpected end of header');
    if (pos - start > 32) fail(`header field of ${pos - start} bytes (expected a short number)`);
    return latin1.decode(buf.subarray(start, pos));
  };
  const magic = token();
  if (magic !== 'P6' && magic !== 'P5') fail(`expected magic P6 or P5, got '${magic}'`);
  const channels = magic === 'P6' ? 3 : 1;
  const nums = [token(), token(), token()].map(Number);
  const [width, height, maxval] = nums;
  if (!nums.every((v) => Number.isInteger(v) && v > 0))
    fail(`bad width/height/maxval ${nums.join(' ')}`);
  if (maxval > 255) fail(`maxval ${maxval} > 255 (16-bit PNM is not supported)`);
  pos++; // exactly one whitespace byte ends the header
  const n = width * height * channels;
  if (buf.length - pos < n) {
    const at = pos;
    pos = buf.length;
    fail(
      `pixel data truncated: ${width}×${height}×${channels} needs ${n} bytes from offset ${at}, file has ${buf.length - at}`,
    );
  }
  const data = new Uint8Array(buf.subarray(pos, pos + n));
  if (maxval !== 255) for (let i = 0; i < n; i++) data[i] = Math.round((data[i] * 255) / maxval);
  return { data, height, width, channels };
}

/** Encodes a binary PPM/PGM (test fixtures, GTSRB-style files). */
export function encodePnm(img: DecodedImage): Buffer {
  if (img.channels !== 1 && img.channels !== 3)
    throw new Error('encodePnm: channels must be 1 or 3');
  const header = Buffer.from(
    `${img.channels === 3 ? 'P6' : 'P5'}\n${img.width} ${img.height}\n255\n`,
  );
  return Buffer.concat([header, Buffer.from(img.data)]);
}

/** Converts to the wanted channel count (RGB → luma 299/587/114 like PIL's 'L'; grey → RGB). */
export function toChannels(img: DecodedImage, channels: 1 | 3): DecodedImage {
  if (img.channels === channels) return img;
  const n = img.height * img.width;
  const out = new Uint8Array(n * channels);
  if (channels === 3 && img.channels === 1) {
    for (let i = 0; i < n; i++) out.fill(img.data[i], 3 * i, 3 * i + 3);
  } else if (channels === 1 && img.channels >= 3) {
    const c = img.channels;
    for (let i = 0; i < n; i++) {
      const [r, g, b] = [img.data[c * i], img.data[c * i + 1], img.data[c * i + 2]];
      // PIL: L = (R·299 + G·587 + B·114) / 1000, rounded (fixed-point in ImagingConvert).
      out[i] = Math.floor((r * 19595 + g * 38470 + b * 7471 + 0x8000) / 65536);
    }
  } else if (channels === 3 && img.channels === 4) {
    for (let i = 0; i < n; i++) out.set(img.data.subarray(4 * i, 4 * i + 3), 3 * i);
  } else {
    throw new Error(`toChannels: cannot convert ${img.channels} channels to ${channels}`);
  }
  return { data: out, height: img.height, width: img.width, channels };
}

/** Decodes an image file to RGB (or greyscale with `channels: 1`). */
export async function decodeImageFile(
  file: string,
  opts: { channels?: 1 | 3 } = {},
): Promise<DecodedImage> {
  const channels = opts.channels ?? 3;
  const buf = await fs.promises.readFile(file);
  let img: DecodedImage;
  if (buf.length >= 2 && buf[0] === 0x50 && (buf[1] === 0x36 || buf[1] === 0x35)) {
    img = parsePnm(buf, file);
  } else {
    try {
      const { data, info } = await sharp(buf).raw().toBuffer({ resolveWithObject: true });
      img = {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        height: info.height,
        width: info.width,
        channels: info.channels,
      };
    } catch (e) {
      throw new FormatError(
        file,
        `cannot decode image (expected JPEG, PNG or another format libvips reads): ${(e as Error).message}`,
      );
    }
    if (img.channels === 2 || img.channels === 4) {
      // Drop alpha (grey+alpha → grey, RGBA → RGB).
      const keep = img.channels - 1;
      const n = img.height * img.width;
      const out = new Uint8Array(n * keep);
      for (let i = 0; i < n; i++)
        out.set(img.data.subarray(img.channels * i, img.channels * i + keep), keep * i);
      img = { ...img, data: out, channels: keep };
    }
  }
  return toChannels(img, channels);
}

/** Writes a uint8 HWC image as PNG or JPEG (by extension) — test fixtures and examples. */
export async function encodeImageFile(
  file: string,
  img: DecodedImage,
  quality = 95,
): Promise<void> {
  const s = sharp(Buffer.from(img.data), {
    raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 },
  });
  const lower = file.toLowerCase();
  if (lower.endsWith('.ppm') || lower.endsWith('.pgm'))
    await fs.promises.writeFile(file, encodePnm(img));
  else if (lower.endsWith('.jpg') || lower.endsWith('.jpeg'))
    await s.jpeg({ quality }).toFile(file);
  else await s.png().toFile(file);
}
