/**
 * Writes PyTorch's own `.pth` zip format (§8) so that a plain `torch.load(path)` —
 * including `weights_only=True`, the default since torch 2.6 — reads our exports without
 * any extra package. The pickle names only `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor_v2` and `torch.<T>Storage`, the same globals our reader
 * accepts, so files round-trip through `loadTorchCheckpoint` too.
 *
 * Layout written (as torch ≥ 1.6): `archive/data.pkl` (pickle protocol 2),
 * `archive/data/<n>` (one raw little-endian storage per tensor), `archive/byteorder`,
 * `archive/version` = 3. Entries are stored uncompressed, as torch writes them.
 */
import { zipSync, type Zippable } from 'fflate';
import type { NamedArray } from '../util/safetensors';

/** Values the writer can pickle: tensors, state_dicts (Map → OrderedDict), plain data. */
export type TorchWritable =
  | NamedArray
  | Map<string, NamedArray>
  | { [key: string]: TorchWritable }
  | TorchWritable[]
  | string
  | number
  | boolean
  | null;

const STORAGE: Record<NamedArray['dtype'], string> = {
  F32: 'FloatStorage',
  F64: 'DoubleStorage',
  I32: 'IntStorage',
  I64: 'LongStorage',
  U8: 'ByteStorage',
};

class Pickler {
  private readonly parts: Uint8Array[] = [];
  readonly storages: Uint8Array[] = [];
  private readonly enc = new TextEncoder();

  raw(s: string): void {
    this.parts.push(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  }

  bytes(b: Uint8Array): void {
    this.parts.push(b);
  }

  str(s: string): void {
    const b = this.enc.encode(s);
    const head = new Uint8Array(5);
    head[0] = 0x58; // BINUNICODE
    new DataView(head.buffer).setUint32(1, b.length, true);
    this.bytes(head);
    this.bytes(b);
  }

  int(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`torchWriter: ${n} is not a safe integer`);
    if (n >= 0 && n < 256)
      this.bytes(Uint8Array.of(0x4b, n)); // BININT1
    else if (n >= 0 && n < 65536)
      this.bytes(Uint8Array.of(0x4d, n & 255, n >> 8)); // BININT2
    else if (n >= -(2 ** 31) && n < 2 ** 31) {
      const b = new Uint8Array(5);
      b[0] = 0x4a; // BININT
      new DataView(b.buffer).setInt32(1, n, true);
      this.bytes(b);
    } else {
      const b = new Uint8Array(10);
      b[0] = 0x8a; // LONG1, 8 bytes two's complement
      b[1] = 8;
      new DataView(b.buffer).setBigInt64(2, BigInt(n), true);
      this.bytes(b);
    }
  }

  float(x: number): void {
    const b = new Uint8Array(9);
    b[0] = 0x47; // BINFLOAT, big-endian
    new DataView(b.buffer).setFloat64(1, x, false);
    this.bytes(b);
  }

  tuple(items: number[]): void {
    this.raw('(');
    for (const i of items) this.int(i);
    this.raw('t');
  }

  tensor(t: NamedArray): void {
    const key = String(this.storages.length);
    const d = t.data;
    this.storages.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    const stride: number[] = [];
    let s = 1;
    for (let i = t.shape.length - 1; i >= 0; i--) {
      stride.unshift(s);
      s *= t.shape[i];
    }
    // _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks)
    this.raw('ctorch._utils\n_rebuild_tensor_v2\n((');
    this.str('storage');
    this.raw(`ctorch\n${STORAGE[t.dtype]}\n`);
    this.str(key);
    this.str('cpu');
    this.int(d.length);
    this.raw('tQ');
    this.int(0);
    this.tuple(t.shape);
    this.tuple(stride);
    this.raw('\x89ccollections\nOrderedDict\n)RtR');
  }

  value(v: TorchWritable): void {
    if (v === null) this.raw('N');
    else if (typeof v === 'boolean') this.raw(v ? '\x88' : '\x89');
    else if (typeof v === 'number') {
      if (Number.isInteger(v)) this.int(v);
      else this.float(v);
    } else if (typeof v === 'string') this.str(v);
    else if (Array.isArray(v)) {
      this.raw('](');
      for (const x of v) this.value(x);
      this.raw('e');
    } else if (v instanceof Map) {
      this.raw('ccollections\nOrderedDict\n)R(');
      for (const [k, t] of v) {
        this.str(k);
        this.tensor(t);
      }
      this.raw('u');
    } else if (isNamedArray(v)) this.tensor(v);
    else {
      this.raw('}(');
      for (const [k, x] of Object.entries(v)) {
        this.str(k);
        this.value(x);
      }
      this.raw('u');
    }
  }

  finish(): Uint8Array {
    this.raw('.');
    const out = new Uint8Array(this.parts.reduce((a, p) => a + p.length, 2));
    out.set([0x80, 2]); // PROTO 2
    let at = 2;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

function isNamedArray(v: unknown): v is NamedArray {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v;
}

/** Serialises `obj` as a `torch.save`-compatible zip (bytes). */
export function encodeTorchFile(obj: TorchWritable): Uint8Array {
  const p = new Pickler();
  p.value(obj);
  const files: Zippable = { 'archive/data.pkl': p.finish() };
  p.storages.forEach((s, i) => (files[`archive/data/${i}`] = s));
  files['archive/byteorder'] = new TextEncoder().encode('little');
  files['archive/version'] = new TextEncoder().encode('3\n');
  return zipSync(files, { level: 0 });
}
