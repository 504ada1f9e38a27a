/**
 * Export of a carp-kit network for PyTorch users (§8): tensors in PyTorch layout
 * (conv `[out, in, kh, kw]`, `num_batches_tracked` int64) under PyTorch key names, as
 * safetensors (`safetensors.torch.load_file`) or as a `.pth` (`torch.load`).
 *
 * Key layouts:
 * - `torchvision`: backbone only, plain torchvision names (`conv1.weight`,
 *   `layer1.0.bn1.running_mean`): `resnet50(); fc = Identity(); load_state_dict(sd)`;
 * - `carp`: the reference wrapper's names (`backbone.conv1.weight`, `head.mlp.0.weight`,
 *   `head.last_layer.weight_g` …); `prefix: 'module.'` gives exactly the training
 *   checkpoint's keys, and `wrap: 'teacher'` (for `.pth`) puts them under `teacher` so the
 *   reference's evaluation scripts read the file as one of theirs.
 */
import type { ParamStore } from '../models/params';
import { writeFileAtomic } from '../util/atomic';
import { encodeSafetensors, type NamedArray } from '../util/safetensors';
import { canonicalKey, tfjsConvToTorch } from './mapping';
import { encodeTorchFile, type TorchWritable } from './torchWriter';

export interface ExportOptions {
  /** `torchvision` (backbone only) or `carp` (backbone + head, wrapper names). Default `carp`. */
  layout?: 'torchvision' | 'carp';
  /** Prepended to every key (e.g. `module.`). Default none. */
  prefix?: string;
}

/** Our store → PyTorch-layout arrays under PyTorch names, in registration order. */
export function toTorchStateDict(
  store: ParamStore,
  opts: ExportOptions = {},
): Map<string, NamedArray> {
  const layout = opts.layout ?? 'carp';
  const out = new Map<string, NamedArray>();
  for (const name of store.names()) {
    const isHead = canonicalKey(name).startsWith('head.');
    if (layout === 'torchvision' && isHead) continue;
    const key = (opts.prefix ?? '') + (layout === 'torchvision' ? canonicalKey(name) : name);
    const v = store.get(name);
    const shape = [...v.shape];
    if (v.dtype === 'int32') {
      // PyTorch keeps num_batches_tracked as int64.
      const d = v.dataSync() as Int32Array;
      out.set(key, { dtype: 'I64', shape, data: BigInt64Array.from(d, (x) => BigInt(x)) });
    } else if (v.dtype === 'float32') {
      const d = v.dataSync() as Float32Array;
      out.set(
        key,
        shape.length === 4
          ? {
              dtype: 'F32',
              shape: [shape[3], shape[2], shape[0], shape[1]],
              data: tfjsConvToTorch(d, shape),
            }
          : { dtype: 'F32', shape, data: Float32Array.from(d) },
      );
    } else {
      throw new Error(
        `toTorchStateDict: '${name}' has dtype ${v.dtype}; only float32 and int32 are exported`,
      );
    }
  }
  return out;
}

/** Writes the store as safetensors (atomically); metadata `format: pt` as safetensors.torch writes. */
export function saveTorchSafetensors(
  path: string,
  store: ParamStore,
  opts: ExportOptions & { metadata?: Record<string, string> } = {},
): void {
  const meta = { format: 'pt', 'carp-kit.layout': opts.layout ?? 'carp', ...opts.metadata };
  writeFileAtomic(path, encodeSafetensors(toTorchStateDict(store, opts), meta));
}

/**
 * Writes the store as a `.pth` (atomically). `wrap` nests the state_dict under that key,
 * with `extra` top-level entries beside it (e.g. `{ epoch: 100 }`).
 */
export function saveTorchPth(
  path: string,
  store: ParamStore,
  opts: ExportOptions & { wrap?: string; extra?: Record<string, TorchWritable> } = {},
): void {
  const sd = toTorchStateDict(store, opts);
  const obj: TorchWritable = opts.wrap ? { [opts.wrap]: sd, ...opts.extra } : sd;
  writeFileAtomic(path, encodeTorchFile(obj));
}
