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

function readElement(buf: Buffer, pos: number, file: string): { el: Element; next: number } {
  if (pos + 8 > buf.length)
    throw new Error(`${file}: truncated data element tag at byte offset ${pos}`);
  let type = buf.readUInt32LE(pos);
  let size: number;
  let start: number;
  if (type >>> 16 !== 0) {
    // small data element: size in the upper half, data in the next 4 bytes
    size = type >>> 16;
    type &= 0xffff;
    start = pos + 4;
    return { el: { type, data: buf.subarray(start, start + size) }, next: pos + 8 };
  }
  size = buf.readUInt32LE(pos + 4);
  start = pos + 8;
  if (start + size > buf.length)
    throw new Error(
      `${file}: data element at byte offset ${pos} needs ${size} bytes, file ends at ${buf.length}`,
    );
  const pad = type === MI.COMPRESSED ? 0 : (8 - (size % 8)) % 8;
  return { el: { type, data: buf.subarray(start, start + size) }, next: start + size + pad };
}

function numbers(el: Element): Float64Array {
  const d = el.data;
  const width: Record<number, number> = {
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
  const w = width[el.type];
  if (!w) throw new Error(`unsupported numeric element type ${el.type}`);
  const n = d.length / w;
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

function chars(el: Element, dims: number[]): string[] {
  const codes =
    el.type === MI.UTF8
      ? Array.from(el.data.toString('utf8'), (c) => c.codePointAt(0)!)
      : Array.from(numbers(el));
  const [rows, cols] = [dims[0], dims.slice(1).reduce((a, b) => a * b, 1)];
  // column-major: row r is codes[r], codes[r + rows], …
  return Array.from({ length: rows }, (_, r) =>
    String.fromCodePoint(...Array.from({ length: cols }, (_, c) => codes[r + c * rows])),
  );
}

function readMatrix(data: Buffer, file: string): { name: string; value: MatValue } {
  let pos = 0;
  const next = () => {
    const r = readElement(data, pos, file);
    pos = r.next;
    return r.el;
  };
  const flags = next();
  const cls = flags.data.readUInt32LE(0) & 0xff;
  const dims = Array.from(numbers(next()));
  const name = next().data.toString('latin1');
  const count = dims.reduce((a, b) => a * b, 1);
  if (cls === MX.CELL) {
    return {
      name,
      value: Array.from({ length: count }, () => readMatrix(next().data, file).value),
    };
  }
  if (cls === MX.STRUCT || cls === MX.OBJECT) {
    if (cls === MX.OBJECT) next(); // class name
    const fieldLen = numbers(next())[0];
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
    const items = Array.from({ length: count }, () => {
      const obj: Record<string, MatValue> = {};
      for (const f of fields) obj[f] = readMatrix(next().data, file).value;
      return obj;
    });
    return { name, value: count === 1 ? items[0] : items };
  }
  if (cls === MX.SPARSE) throw new Error(`${file}: variable '${name}' is sparse (not supported)`);
  const real = next();
  if (cls === MX.CHAR) {
    const rows = chars(real, dims);
    return { name, value: rows.length === 1 ? rows[0] : rows };
  }
  return { name, value: { dims, data: count === 0 ? new Float64Array(0) : numbers(real) } };
}

/** Reads the top-level variables of a level-5 MAT file. */
export function readMat(file: string): Record<string, MatValue> {
  const buf = fs.readFileSync(file);
  if (buf.length < 128) throw new Error(`${file}: too short for a MAT-file header (128 bytes)`);
  const text = buf.subarray(0, 116).toString('latin1');
  if (text.includes('MATLAB 7.3'))
    throw new Error(`${file}: MAT v7.3 (HDF5) is not supported; re-save with -v7`);
  if (buf.readUInt16LE(126) !== 0x4d49)
    throw new Error(`${file}: not a little-endian level-5 MAT file (byte offset 126)`);
  const out: Record<string, MatValue> = {};
  let pos = 128;
  while (pos < buf.length) {
    const { el, next } = readElement(buf, pos, file);
    let m = el;
    if (el.type === MI.COMPRESSED) {
      let raw: Buffer;
      try {
        raw = zlib.inflateSync(el.data);
      } catch (e) {
        throw new Error(
          `${file}: corrupt compressed element at byte offset ${pos}: ${(e as Error).message}`,
        );
      }
      m = readElement(raw, 0, file).el;
    }
    if (m.type === MI.MATRIX) {
      const { name, value } = readMatrix(m.data, file);
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
