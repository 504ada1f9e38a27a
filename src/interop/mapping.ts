/**
 * PyTorch state_dict → carp-kit parameter store (§8).
 *
 * Names: the reference's evaluation loader deletes every `module.` and `backbone.` from
 * the teacher's keys; we do the same on both sides and match the results, so
 * `module.backbone.layer1.0.bn1.weight` (CARP checkpoint), `layer1.0.bn1.weight`
 * (torchvision file) and our `backbone.layer1.0.bn1.weight` all meet as
 * `layer1.0.bn1.weight`; head keys meet as `head.mlp.0.weight`, `head.last_layer.weight_v`.
 *
 * Layouts (src/models/params.ts): conv kernels PyTorch `[out, in, kh, kw]` → tfjs
 * `[kh, kw, in, out]`; linear weights, the prototype directions `weight_v` [K, d] and gains
 * `weight_g` [K, 1] keep PyTorch's layout; BN running stats are copied as they are;
 * `num_batches_tracked` int64 → int32. Half/bfloat16/double weights become float32.
 * A shape that still differs after the layout change is an error naming the key.
 */
import type { NamedArray } from '../util/safetensors';
import type { TorchTensor } from './torchTensor';

/** What the mapping needs of a target store (a `ParamStore` fits). */
export interface ParamTarget {
  names(): string[];
  get(name: string): { shape: number[]; dtype: string };
}

export interface MappedCheckpoint {
  /** Arrays in our layout, keyed by the target's names, in the target's order. */
  arrays: Map<string, NamedArray>;
  /** Target names with no source tensor (left as initialised). */
  missing: string[];
  /** Source keys with no target (e.g. torchvision's `fc.*`, or `head.*` for a backbone-only store). */
  unexpected: string[];
}

export interface MapOptions {
  /** Throw when anything is missing or unexpected (PyTorch's `strict=True`). */
  strict?: boolean;
  /** Source keys to skip silently (e.g. `/^fc\./`). */
  ignore?: RegExp;
}

/** The reference's evaluation renaming: drop every `module.` and `backbone.` (§8). */
export function canonicalKey(key: string): string {
  return key.split('module.').join('').split('backbone.').join('');
}

/** PyTorch `[out, in, kh, kw]` → tfjs `[kh, kw, in, out]` (permutation [2, 3, 1, 0]). */
export function torchConvToTfjs(data: Float32Array, shape: number[]): Float32Array {
  const [o, i, h, w] = shape;
  const out = new Float32Array(data.length);
  let src = 0;
  for (let a = 0; a < o; a++)
    for (let b = 0; b < i; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) out[((y * w + x) * i + b) * o + a] = data[src++];
  return out;
}

/** tfjs `[kh, kw, in, out]` → PyTorch `[out, in, kh, kw]` (permutation [3, 2, 0, 1]). */
export function tfjsConvToTorch(data: Float32Array, shape: number[]): Float32Array {
  const [h, w, i, o] = shape;
  const out = new Float32Array(data.length);
  let src = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let b = 0; b < i; b++)
        for (let a = 0; a < o; a++) out[((a * i + b) * h + y) * w + x] = data[src++];
  return out;
}

function toFloat32(t: TorchTensor, key: string): Float32Array {
  const d = t.data;
  if (d instanceof Float32Array) return d;
  if (d instanceof Float64Array) return Float32Array.from(d);
  throw new Error(`mapToCarpKit: '${key}' is ${t.dtype}, expected a floating-point tensor`);
}

function toInt32(t: TorchTensor, key: string): Int32Array {
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(t.data[i]);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new Error(`mapToCarpKit: '${key}'[${i}] = ${t.data[i]} does not fit int32`);
    }
    out[i] = v;
  }
  return out;
}

const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** One tensor into the target's layout and dtype, or an error naming both keys. */
function convert(t: TorchTensor, key: string, name: string, shape: number[], dtype: string) {
  const isConv = t.shape.length === 4;
  const ours = isConv ? [t.shape[2], t.shape[3], t.shape[1], t.shape[0]] : t.shape;
  if (!same(ours, shape)) {
    const how = isConv ? ` (PyTorch [${t.shape}] as [kh, kw, in, out])` : '';
    throw new Error(
      `mapToCarpKit: shape mismatch for '${key}' → '${name}': checkpoint [${ours}]${how}, model [${shape}]`,
    );
  }
  if (dtype === 'int32') return { dtype: 'I32', shape, data: toInt32(t, key) } as NamedArray;
  if (dtype !== 'float32') throw new Error(`mapToCarpKit: target '${name}' has dtype ${dtype}`);
  const f = toFloat32(t, key);
  return { dtype: 'F32', shape, data: isConv ? torchConvToTfjs(f, t.shape) : f } as NamedArray;
}

/**
 * Maps a PyTorch state_dict (from `loadTorchCheckpoint`) onto a target store's names,
 * converting layouts. Reports missing/unexpected keys; `strict` turns them into errors.
 */
export function mapToCarpKit(
  tensors: Map<string, TorchTensor>,
  target: ParamTarget,
  opts: MapOptions = {},
): MappedCheckpoint {
  const bySource = new Map<string, string>();
  for (const key of tensors.keys()) {
    if (opts.ignore?.test(key)) continue;
    const c = canonicalKey(key);
    const prev = bySource.get(c);
    if (prev !== undefined) {
      throw new Error(`mapToCarpKit: keys '${prev}' and '${key}' both map to '${c}'`);
    }
    bySource.set(c, key);
  }
  const arrays = new Map<string, NamedArray>();
  const missing: string[] = [];
  for (const name of target.names()) {
    const key = bySource.get(canonicalKey(name));
    if (key === undefined) {
      missing.push(name);
      continue;
    }
    bySource.delete(canonicalKey(name));
    const v = target.get(name);
    arrays.set(name, convert(tensors.get(key)!, key, name, [...v.shape], v.dtype));
  }
  const unexpected = [...bySource.values()];
  if (opts.strict && (missing.length || unexpected.length)) {
    throw new Error(
      `mapToCarpKit (strict): missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`,
    );
  }
  return { arrays, missing, unexpected };
}
