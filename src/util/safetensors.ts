/**
 * Safetensors files (architecture §3.4): an 8-byte little-endian header length, a JSON
 * header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__: {…} }`,
 * then the raw little-endian tensor bytes. Python reads them with
 * `safetensors.torch.load_file`, so checkpoints stay readable outside this kit.
 *
 * Writes are atomic: a temp file in the same folder, fsync, then rename, so a crash
 * never leaves a half-written checkpoint under the final name.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic';

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

/** Serialises tensors (in insertion order) and string metadata to a Buffer. */
export function encodeSafetensors(
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new Error(
        `safetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape}]`,
      );
    }
    const bytes = count * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to 8 bytes so every tensor is aligned in memory.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    const src = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    src.copy(out, pos);
    pos += src.length;
  }
  return out;
}

/** Parses a safetensors buffer; `source` names the file in error messages. */
export function decodeSafetensors(
  buf: Buffer,
  source = 'safetensors buffer',
): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error(`${source}: truncated (no header length at offset 0)`);
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) {
    throw new Error(
      `${source}: header length ${headerLen} at offset 0 exceeds file size ${buf.length}`,
    );
  }
  let header: Record<string, { dtype: SafeDtype; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    throw new Error(`${source}: header at offset 8 is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  // Copy the data region once into an aligned ArrayBuffer so typed views are valid.
  const data = new Uint8Array(buf.length - dataStart);
  data.set(buf.subarray(dataStart));
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as unknown as Record<string, string>;
      continue;
    }
    const {
      dtype,
      shape,
      data_offsets: [begin, end],
    } = entry;
    if (!(dtype in BYTES))
      throw new Error(`${source}: tensor "${name}" has unsupported dtype ${dtype}`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype] || end > data.length || begin % BYTES[dtype] !== 0) {
      throw new Error(
        `${source}: tensor "${name}" bytes [${begin}, ${end}) at offset ${dataStart + begin} do not match ` +
          `${dtype}[${shape}] within a data region of ${data.length} bytes`,
      );
    }
    tensors.set(name, { dtype, shape, data: viewFor(dtype, data.buffer, begin, count) });
  }
  return { tensors, metadata };
}

export function saveSafetensors(
  path: string,
  tensors: Map<string, NamedArray>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  return decodeSafetensors(buf, path);
}
