/**
 * A minimal MATLAB level-5 .mat reader (numeric arrays, char arrays, cells, structs;
 * zlib-compressed elements) — what Flowers-102 (imagelabels.mat, setid.mat), Stanford
 * Cars (cars_*_annos.mat, cars_meta.mat) and the ImageNet devkit (meta.mat) store.
 * Values come back as plain JS: numeric arrays as { dims, data: Float64Array } in MATLAB's
 * column-major order, char arrays as strings (one per row), cells as arrays, struct
 * arrays as arrays of objects. v7.3 (HDF5) files are refused with a clear message.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { FormatError } from '../../src/util/formatError';

export interface MatNumeric {
  dims: number[];
  data: Float64Array;
}
export type MatValue = MatNumeric | string | string[] | MatValue[] | { [field: string]: MatValue };

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
};
const MX = { CELL: 1, STRUCT: 2, OBJECT: 3, CHAR: 4, SPARSE: 5 };

interface Element {
  type: number;
  data: Buffer;
}

/** Throws the reader's typed error for `file` (what was expected, at which offset). */
type Fail = (msg: string, offset?: number) => never;

function failFor(file: string): Fail {
  return (msg, offset) => {
    throw new FormatError(file, msg, { offset });
  };
}

function readElement(buf: Buffer, pos: number, fail: Fail): { el: Element; next: number } {
  if (pos + 8 > buf.length) fail(`truncated data element tag at byte offset ${pos}`, pos);
  let type = buf.readUInt32LE(pos);
  let size: number;
  let start: number;
  if (type >>> 16 !== 0) {
    // small data element: size in the upper half, data in the next 4 bytes
    size = type >>> 16;
    type &= 0xffff;
    if (size > 4)
      fail(`small data element at byte offset ${pos} claims ${size} bytes (expected ≤ 4)`, pos);
    start = pos + 4;
    return { el: { type, data: buf.subarray(start, start + size) }, next: pos + 8 };
  }
  size = buf.readUInt32LE(pos + 4);
  start = pos + 8;
  if (start + size > buf.length)
    fail(`data element at byte offset ${pos} needs ${size} bytes, file ends at ${buf.length}`, pos);
  const pad = type === MI.COMPRESSED ? 0 : (8 - (size % 8)) % 8;
  return { el: { type, data: buf.subarray(start, start + size) }, next: start + size + pad };
}

const WIDTH: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
};

function numbers(el: Element, fail: Fail): Float64Array {
  const d = el.data;
  const w = WIDTH[el.type];
  if (!w)
    fail(
      `unsupported numeric element type ${el.type} (expected an miINT/miUINT/miSINGLE/miDOUBLE type)`,
    );
  const n = Math.floor(d.length / w);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * w;
    switch (el.type) {
      case MI.INT8:
        out[i] = d.readInt8(o);
        break;
      case MI.UINT8:
        out[i] = d[o];
        break;
      case MI.INT16:
        out[i] = d.readInt16LE(o);
        break;
      case MI.UINT16:
        out[i] = d.readUInt16LE(o);
        break;
      case MI.INT32:
        out[i] = d.readInt32LE(o);
        break;
      case MI.UINT32:
        out[i] = d.readUInt32LE(o);
        break;
      case MI.SINGLE:
        out[i] = d.readFloatLE(o);
        break;
      case MI.DOUBLE:
        out[i] = d.readDoubleLE(o);
        break;
      case MI.INT64:
        out[i] = Number(d.readBigInt64LE(o));
        break;
      default:
        out[i] = Number(d.readBigUInt64LE(o));
    }
  }
  return out;
}

function chars(el: Element, dims: number[], fail: Fail): string[] {
  const codes =
    el.type === MI.UTF8
      ? Array.from(el.data.toString('utf8'), (c) => c.codePointAt(0)!)
      : Array.from(numbers(el, fail));
  const [rows, cols] = [dims[0] ?? 0, dims.slice(1).reduce((a, b) => a * b, 1)];
  if (rows * cols > codes.length) {
    fail(`char array [${dims}] needs ${rows * cols} characters, the element has ${codes.length}`);
  }
  // column-major: row r is codes[r], codes[r + rows], …
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let row = '';
    for (let c = 0; c < cols; c++) {
      const code = codes[r + c * rows];
      if (!Number.isInteger(code) || code < 0 || code > 0x10ffff)
        fail(`character code ${code} is not a code point`);
      row += String.fromCodePoint(code);
    }
    out.push(row);
  }
  return out;
}

function readMatrix(data: Buffer, fail: Fail, depth = 0): { name: string; value: MatValue } {
  if (depth > 64) fail('cells/structs nest deeper than 64 levels');
  let pos = 0;
  const next = () => {
    const r = readElement(data, pos, fail);
    pos = r.next;
    return r.el;
  };
  const flags = next();
  if (flags.data.length < 4) fail('array flags element shorter than 4 bytes');
  const cls = flags.data.readUInt32LE(0) & 0xff;
  const dims = Array.from(numbers(next(), fail));
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0))
    fail(`dimensions [${dims}] are not non-negative integers`);
  const name = next().data.toString('latin1');
  const count = dims.reduce((a, b) => a * b, 1);
  // Every cell or struct field takes at least one 8-byte element: a larger count is corrupt.
  const fits = (n: number) => {
    if (!(n <= (data.length - pos) / 8))
      fail(`variable '${name}' claims ${n} elements in ${data.length - pos} bytes`);
  };
  if (cls === MX.CELL) {
    fits(count);
    return {
      name,
      value: Array.from({ length: count }, () => readMatrix(next().data, fail, depth + 1).value),
    };
  }
  if (cls === MX.STRUCT || cls === MX.OBJECT) {
    if (cls === MX.OBJECT) next(); // class name
    const fieldLen = numbers(next(), fail)[0];
    if (!Number.isInteger(fieldLen) || fieldLen < 1 || fieldLen > 1024) {
      fail(`struct field-name length ${fieldLen} (expected 1–1024)`);
    }
    const namesEl = next();
    const fields: string[] = [];
    for (let o = 0; o + fieldLen <= namesEl.data.length; o += fieldLen) {
      fields.push(
        namesEl.data
          .subarray(o, o + fieldLen)
          .toString('latin1')
          .replace(/\0.*$/s, ''),
      );
    }
    fits(count * fields.length);
    const items = Array.from({ length: count }, () => {
      const obj: Record<string, MatValue> = {};
      for (const f of fields) obj[f] = readMatrix(next().data, fail, depth + 1).value;
      return obj;
    });
    return { name, value: count === 1 ? items[0] : items };
  }
  if (cls === MX.SPARSE) fail(`variable '${name}' is sparse (not supported)`);
  const real = next();
  if (cls === MX.CHAR) {
    const rows = chars(real, dims, fail);
    return { name, value: rows.length === 1 ? rows[0] : rows };
  }
  return { name, value: { dims, data: count === 0 ? new Float64Array(0) : numbers(real, fail) } };
}

/** Reads the top-level variables of a level-5 MAT file. */
export function readMat(file: string): Record<string, MatValue> {
  return parseMat(fs.readFileSync(file), file);
}

/**
 * Parses a level-5 MAT file's bytes; `file` names it in errors, all `FormatError`s that
 * say what was expected (and where).
 */
export function parseMat(buf: Buffer, file: string): Record<string, MatValue> {
  const fail = failFor(file);
  if (buf.length < 128) fail('too short for a MAT-file header (128 bytes)');
  const text = buf.subarray(0, 116).toString('latin1');
  if (text.includes('MATLAB 7.3')) fail('MAT v7.3 (HDF5) is not supported; re-save with -v7');
  if (buf.readUInt16LE(126) !== 0x4d49)
    fail('not a little-endian level-5 MAT file (byte offset 126)', 126);
  const out: Record<string, MatValue> = {};
  let pos = 128;
  while (pos < buf.length) {
    const { el, next } = readElement(buf, pos, fail);
    let m = el;
    if (el.type === MI.COMPRESSED) {
      let raw: Buffer;
      try {
        // (deflate expands at most ~1032×: the output is bounded by the file's size)
        raw = zlib.inflateSync(el.data);
      } catch (e) {
        return fail(
          `corrupt compressed element at byte offset ${pos}: ${(e as Error).message}`,
          pos,
        );
      }
      m = readElement(raw, 0, fail).el;
    }
    if (m.type === MI.MATRIX) {
      const { name, value } = readMatrix(m.data, fail);
      out[name] = value;
    }
    pos = next;
  }
  return out;
}

/** A numeric variable as a flat number array (column-major), with a check naming the file. */
export function matNumbers(v: MatValue | undefined, what: string): number[] {
  if (!v || typeof v !== 'object' || !('data' in v))
    throw new Error(`${what}: expected a numeric array`);
  return Array.from((v as MatNumeric).data);
}
