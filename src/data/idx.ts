/**
 * IDX files (the MNIST / Fashion-MNIST container), optionally gzipped.
 *
 * Layout (big-endian): bytes 0–1 zero, byte 2 the element type, byte 3 the number of
 * dimensions n, then n uint32 sizes, then the elements in row-major order (multi-byte
 * elements big-endian). Element types: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
 * 0x0D float32, 0x0E float64.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { FormatError } from '../util/formatError';

export type IdxData =
  Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  /** Element type name. */
  dtype: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  shape: number[];
  /** Elements in row-major order (uint8/int8 are views into the input buffer, no copy). */
  data: IdxData;
}

const TYPES: Record<number, { dtype: IdxArray['dtype']; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/**
 * Parses an (uncompressed) IDX buffer. `file` names the source in error messages, which
 * also give the byte offset of the problem.
 */
export function parseIdx(buf: Uint8Array, file = '<buffer>'): IdxArray {
  const fail = (offset: number, msg: string): never => {
    throw new FormatError(file, `invalid IDX file at byte offset ${offset}: ${msg}`, { offset });
  };
  if (buf.length < 4) fail(0, `expected a 4-byte header, file has ${buf.length} bytes`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    const gz = buf[0] === 0x1f && buf[1] === 0x8b ? ' (looks gzipped: use readIdxFile)' : '';
    fail(0, `expected magic bytes 00 00, got ${hex(buf[0])} ${hex(buf[1])}${gz}`);
  }
  const type = TYPES[buf[2]];
  if (!type) fail(2, `unknown element type ${hex(buf[2])} (expected 08, 09, 0B, 0C, 0D or 0E)`);
  const ndim = buf[3];
  if (ndim === 0) fail(3, 'number of dimensions is 0');
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) {
    fail(
      buf.length,
      `header needs ${headerBytes} bytes for ${ndim} dimensions, file has ${buf.length}`,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    shape.push(n);
    count *= n;
  }
  const want = headerBytes + count * type.bytes;
  if (buf.length !== want) {
    fail(
      Math.min(buf.length, want),
      `shape [${shape.join(', ')}] of ${type.dtype} needs ${want} bytes, file has ${buf.length}` +
        (buf.length < want ? ' (truncated)' : ' (trailing bytes)'),
    );
  }
  return {
    dtype: type.dtype,
    shape,
    data: readElements(buf, view, headerBytes, count, type.dtype),
  };
}

function readElements(
  buf: Uint8Array,
  view: DataView,
  offset: number,
  count: number,
  dtype: IdxArray['dtype'],
): IdxData {
  switch (dtype) {
    case 'uint8':
      return buf.subarray(offset, offset + count);
    case 'int8':
      return new Int8Array(buf.buffer, buf.byteOffset + offset, count);
    default: {
      // Multi-byte elements are big-endian: decode one by one (label files are small;
      // image files in practice are uint8).
      const out =
        dtype === 'int16'
          ? new Int16Array(count)
          : dtype === 'int32'
            ? new Int32Array(count)
            : dtype === 'float32'
              ? new Float32Array(count)
              : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        if (dtype === 'int16') out[i] = view.getInt16(offset + 2 * i, false);
        else if (dtype === 'int32') out[i] = view.getInt32(offset + 4 * i, false);
        else if (dtype === 'float32') out[i] = view.getFloat32(offset + 4 * i, false);
        else out[i] = view.getFloat64(offset + 8 * i, false);
      }
      return out;
    }
  }
}

/** Reads an IDX file from disk, gunzipping it when it starts with the gzip magic. */
export function readIdxFile(path: string): IdxArray {
  const raw = fs.readFileSync(path);
  let buf: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      // (deflate expands at most ~1032×, so the output is bounded by the file's size)
      buf = zlib.gunzipSync(raw);
    } catch (e) {
      throw new FormatError(
        path,
        `gzip stream is corrupt or truncated (expected a gzipped IDX file): ${(e as Error).message}`,
      );
    }
  }
  return parseIdx(buf, path);
}

/** Encodes an array as IDX (big-endian); used by tests to generate fixtures. */
export function encodeIdx(
  dtype: IdxArray['dtype'],
  shape: number[],
  data: ArrayLike<number>,
): Buffer {
  const code = Number(Object.keys(TYPES).find((k) => TYPES[Number(k)].dtype === dtype));
  const bytes = TYPES[code].bytes;
  const header = 4 + 4 * shape.length;
  const out = Buffer.alloc(header + data.length * bytes);
  out[2] = code;
  out[3] = shape.length;
  shape.forEach((n, d) => out.writeUInt32BE(n, 4 + 4 * d));
  for (let i = 0; i < data.length; i++) {
    const o = header + i * bytes;
    if (dtype === 'uint8') out.writeUInt8(data[i], o);
    else if (dtype === 'int8') out.writeInt8(data[i], o);
    else if (dtype === 'int16') out.writeInt16BE(data[i], o);
    else if (dtype === 'int32') out.writeInt32BE(data[i], o);
    else if (dtype === 'float32') out.writeFloatBE(data[i], o);
    else out.writeDoubleBE(data[i], o);
  }
  return out;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0').toUpperCase();
}
