/**
 * Safetensors files: an 8-byte little-endian header length, a JSON
 * header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__: {…} }`,
 * then the raw little-endian tensor bytes. Python reads them with
 * `safetensors.torch.load_file`, so checkpoints stay readable outside this kit.
 *
 * Every file we write carries `__metadata__.data_sha256`, the sha256 of its data section;
 * reading verifies it (a mismatch is an `IntegrityError` naming the file) and reports
 * files without one (older writers, other tools) as `digest: 'absent'`.
 *
 * Writes are atomic: a temp file in the same folder, fsync, then rename, so a crash
 * never leaves a half-written checkpoint under the final name.
 */
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic';
import { FormatError, IntegrityError } from './formatError';

export type SafeDtype = 'F32' | 'I32' | 'I64' | 'U8' | 'F64';

export interface NamedArray {
  dtype: SafeDtype;
  shape: number[];
  /** Row-major data; I64 is carried as BigInt64Array. */
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Float64Array;
}

const BYTES: Record<SafeDtype, number> = { F32: 4, I32: 4, I64: 8, U8: 1, F64: 8 };

function viewFor(
  dtype: SafeDtype,
  buf: ArrayBuffer,
  offset: number,
  count: number,
): NamedArray['data'] {
  switch (dtype) {
    case 'F32':
      return new Float32Array(buf, offset, count);
    case 'I32':
      return new Int32Array(buf, offset, count);
    case 'I64':
      return new BigInt64Array(buf, offset, count);
    case 'U8':
      return new Uint8Array(buf, offset, count);
    case 'F64':
      return new Float64Array(buf, offset, count);
  }
}

/** Metadata key of the sha256 (hex) of the data section, written by `encodeSafetensors`. */
export const DIGEST_KEY = 'data_sha256';

function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * Serialises tensors (in insertion order) and string metadata to a Buffer. The metadata
 * gains `data_sha256`, the sha256 of the data section, which `decodeSafetensors` verifies.
 */
export function encodeSafetensors(
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
): Buffer {
  let offset = 0;
  const entries: [string, unknown][] = [];
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new Error(
        `safetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape}]`,
      );
    }
    const bytes = count * BYTES[t.dtype];
    entries.push([
      name,
      { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] },
    ]);
    offset += bytes;
  }
  const data = Buffer.alloc(offset);
  let pos = 0;
  for (const t of tensors.values()) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(data, pos);
    pos += src.length;
  }
  const header: Record<string, unknown> = {
    __metadata__: { ...metadata, [DIGEST_KEY]: sha256Hex(data) },
    ...Object.fromEntries(entries),
  };
  let json = JSON.stringify(header);
  // Pad the header with spaces to 8 bytes so every tensor is aligned in memory.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  data.copy(out, 8 + headerBytes.length);
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, NamedArray>;
  /** The string metadata (without `data_sha256`). */
  metadata: Record<string, string>;
  /** `verified`: the data matched its stored digest; `absent`: the file has none (older writer). */
  digest: 'verified' | 'absent';
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses a safetensors buffer; `source` names the file in errors (all `FormatError`s; a
 * digest mismatch is an `IntegrityError`). Every header field is checked before use.
 */
export function decodeSafetensors(buf: Buffer, source = 'safetensors buffer'): DecodedSafetensors {
  const fail = (msg: string, offset?: number): never => {
    throw new FormatError(source, msg, { offset });
  };
  if (buf.length < 8)
    fail(`truncated (no header length at offset 0; expected 8 bytes, file has ${buf.length})`, 0);
  const headerLen64 = buf.readBigUInt64LE(0);
  if (headerLen64 > BigInt(buf.length - 8)) {
    fail(`header length ${headerLen64} at offset 0 exceeds file size ${buf.length}`, 0);
  }
  const headerLen = Number(headerLen64);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    fail(`header at offset 8 is not JSON (${(e as Error).message}); expected a JSON object`, 8);
  }
  if (!isPlainObject(header)) return fail('header at offset 8 is not a JSON object', 8);
  const dataStart = 8 + headerLen;
  const region = buf.subarray(dataStart);
  let metadata: Record<string, string> = {};
  const specs: [string, SafeDtype, number[], number, number][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry) || !Object.values(entry).every((v) => typeof v === 'string')) {
        fail('__metadata__ is not an object of strings', 8);
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const what = `tensor "${name}"`;
    if (!isPlainObject(entry)) return fail(`${what}: expected {dtype, shape, data_offsets}`, 8);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(BYTES, dtype)) {
      fail(
        `${what} has unsupported dtype ${JSON.stringify(dtype)} (expected ${Object.keys(BYTES).join(', ')})`,
        8,
      );
    }
    const isDim = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(isDim)) {
      fail(
        `${what} has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`,
        8,
      );
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isDim)) {
      fail(`${what} has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`, 8);
    }
    const [begin, end] = offsets as number[];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = BYTES[dtype as SafeDtype];
    if (end - begin !== count * size || end > region.length || begin % size !== 0) {
      fail(
        `${what} bytes [${begin}, ${end}) at offset ${dataStart + begin} do not match ` +
          `${dtype}[${shape as number[]}] within a data region of ${region.length} bytes`,
        dataStart + begin,
      );
    }
    specs.push([name, dtype as SafeDtype, shape as number[], begin, count]);
  }
  let digest: DecodedSafetensors['digest'] = 'absent';
  const stored = metadata[DIGEST_KEY];
  if (stored !== undefined) {
    delete metadata[DIGEST_KEY];
    const actual = sha256Hex(region);
    if (actual !== stored) {
      throw new IntegrityError(
        source,
        `tensor data (bytes ${dataStart}–${buf.length}) does not match its sha256 digest ` +
          `(stored ${stored.slice(0, 12)}…, computed ${actual.slice(0, 12)}…): the file is corrupt`,
        { offset: dataStart },
      );
    }
    digest = 'verified';
  }
  // Copy the data region once into an aligned ArrayBuffer so typed views are valid.
  const data = new Uint8Array(region.length);
  data.set(region);
  const tensors = new Map<string, NamedArray>();
  for (const [name, dtype, shape, begin, count] of specs) {
    tensors.set(name, { dtype, shape, data: viewFor(dtype, data.buffer, begin, count) });
  }
  return { tensors, metadata, digest };
}

export function saveSafetensors(
  path: string,
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): DecodedSafetensors {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(buf, path);
}
