/**
 * PyTorch tensors as they come out of a checkpoint (§8): a typed storage (one raw,
 * little-endian blob per storage key) plus a view (shape, strides, offset, all in
 * elements). Unpickling yields lazy `TorchTensorRef`s; `materialize` copies the view out
 * of the storage bytes into a dense row-major array, so transposed or sliced tensors
 * (general strides) come out right.
 *
 * float16 and bfloat16 are widened to Float32Array (Node 20 has no Float16Array);
 * `dtype` keeps the stored type. int64 stays exact in a BigInt64Array; bool is 0/1 bytes.
 */
import { FormatError } from '../util/formatError';

export type TorchDtype =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

export type TorchData =
  Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** A dense, row-major tensor read from a checkpoint. */
export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  data: TorchData;
}

/** Largest dense copy of a broadcast (zero-stride) view that `materialize` makes: 256 MiB. */
const MAX_EXPANDED_BYTES = 256 * 1024 * 1024;

/** Bytes per element of each storage dtype. */
export const DTYPE_BYTES: Record<TorchDtype, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** `torch.<Name>Storage` → element dtype (the names `torch.save` pickles, even in torch 2.x). */
export const STORAGE_TYPES: Record<string, TorchDtype> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** One storage of the archive: `<prefix>/data/<key>`. */
export interface StorageRef {
  key: string;
  dtype: TorchDtype;
  /** Element count announced in the pickle. */
  numel: number;
  location: string;
}

/** A tensor as described by the pickle, before its bytes are read. */
export class TorchTensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
    readonly requiresGrad: boolean,
  ) {}

  get dtype(): TorchDtype {
    return this.storage.dtype;
  }

  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/**
 * Copies the tensor `ref` out of its storage bytes (`bytes` is the whole storage entry).
 * @param label names the tensor in errors (its checkpoint key, when known).
 */
export function materialize(
  ref: TorchTensorRef,
  bytes: Uint8Array,
  opts: { bigEndian?: boolean; label?: string; file?: string } = {},
): TorchTensor {
  const { dtype } = ref.storage;
  const label = opts.label ?? `storage ${ref.storage.key}`;
  const fail = (msg: string): never => {
    throw new FormatError(opts.file ?? 'checkpoint', `${label}: ${msg}`);
  };
  const size = DTYPE_BYTES[dtype];
  if (bytes.length % size !== 0) {
    fail(`storage has ${bytes.length} bytes, expected a multiple of ${size} (${dtype})`);
  }
  const available = bytes.length / size;
  const { shape, stride, offset } = ref;
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`shape [${shape}] has a negative or non-integer size`);
  }
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    stride.some((s) => !Number.isSafeInteger(s) || s < 0)
  ) {
    fail(`view offset ${offset} / stride [${stride}] must be non-negative integers`);
  }
  const n = ref.numel;
  if (n > 0) {
    let last = offset;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
    if (last >= available) {
      fail(
        `view (offset ${offset}, shape [${shape}], stride [${stride}]) ` +
          `reaches element ${last} but the storage has ${available}`,
      );
    }
  }
  // A dense copy of a view with zero strides (an expanded tensor) can exceed its storage;
  // bound it so a header claiming 2^60 elements never reaches an allocation.
  if (!Number.isSafeInteger(n) || (n > available && n * size > MAX_EXPANDED_BYTES)) {
    fail(
      `shape [${shape}] claims ${n} elements from a storage of ${available}; ` +
        `expected at most ${MAX_EXPANDED_BYTES} bytes once expanded`,
    );
  }
  // Typed views need aligned, host-order (little-endian) bytes; copy only when they are not.
  const swap = opts.bigEndian === true && size > 1;
  const own = swap || bytes.byteOffset % size !== 0 ? new Uint8Array(bytes) : bytes;
  if (swap) {
    for (let i = 0; i < own.length; i += size) own.subarray(i, i + size).reverse();
  }
  const src = storageView(dtype, own.buffer as ArrayBuffer, own.byteOffset, available);
  const out = allocLike(dtype, n);
  if (isContiguous(ref.shape, ref.stride)) {
    copyRange(src, out, ref.offset, n);
  } else {
    gatherStrided(src, out, ref);
  }
  return { dtype, shape: [...ref.shape], data: widen(dtype, out) };
}

function storageView(
  dtype: TorchDtype,
  buf: ArrayBuffer,
  offset = 0,
  length = buf.byteLength / DTYPE_BYTES[dtype],
): TorchData | Uint16Array {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, length);
    case 'float64':
      return new Float64Array(buf, offset, length);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf, offset, length);
    case 'int64':
      return new BigInt64Array(buf, offset, length);
    case 'int32':
      return new Int32Array(buf, offset, length);
    case 'int16':
      return new Int16Array(buf, offset, length);
    case 'int8':
      return new Int8Array(buf, offset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, offset, length);
  }
}

function allocLike(dtype: TorchDtype, n: number): TorchData | Uint16Array {
  return storageView(dtype, new ArrayBuffer(n * DTYPE_BYTES[dtype]));
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d];
  }
  return true;
}

type AnyArray = TorchData | Uint16Array;

function copyRange(src: AnyArray, out: AnyArray, offset: number, n: number): void {
  (out as Uint8Array).set((src as Uint8Array).subarray(offset, offset + n));
}

/** Row-major walk over the view with an odometer of indices. */
function gatherStrided(src: AnyArray, out: AnyArray, ref: TorchTensorRef): void {
  const { shape, stride } = ref;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const s = src as unknown as ArrayLike<unknown> & Record<number, unknown>;
  const o = out as unknown as Record<number, unknown>;
  let at = ref.offset;
  for (let i = 0; i < ref.numel; i++) {
    o[i] = s[at];
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++;
      at += stride[d];
      if (idx[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** float16 / bfloat16 bit patterns → Float32Array; other dtypes pass through. */
function widen(dtype: TorchDtype, a: AnyArray): TorchData {
  if (dtype === 'bfloat16') {
    const bits = new Uint32Array(a.length);
    for (let i = 0; i < a.length; i++) bits[i] = (a as Uint16Array)[i] << 16;
    return new Float32Array(bits.buffer);
  }
  if (dtype === 'float16') {
    const out = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = halfToFloat((a as Uint16Array)[i]);
    return out;
  }
  return a as TorchData;
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
