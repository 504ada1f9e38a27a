/**
 * `loadTorchCheckpoint`: one state dictionary out of a PyTorch `.pth` (§8).
 *
 * Two shapes of file are common:
 * - the CARP training dictionary `{student, teacher, optimizer, epoch, args, fp16_scaler}`
 *   (the official `checkpoint0399.pth`); evaluation uses `teacher` (§8, §9.0);
 * - a plain `state_dict` (torchvision's `resnet50-….pth`), or one wrapped as
 *   `{state_dict: …}` / `{model: …}`.
 * Only the chosen state dictionary's tensors are read from disk. Everything that is not
 * a tensor at the top level (epoch, args as a plain object, …) is returned as `meta`.
 */
import { openTorchFile } from './torchFile';
import { InertGlobal, PyNamespace } from './torchGlobals';
import { TorchTensor, TorchTensorRef } from './torchTensor';
import { FormatError } from '../util/formatError';
import { describe } from '../util/pickle';

export interface TorchCheckpointMeta {
  /** Top-level keys of the file (for a training dictionary). */
  keys: string[];
  /** Which entry `tensors` came from (`teacher`, `state_dict`, …); null for a bare state_dict. */
  entry: string | null;
  /** Entries that hold state dictionaries (tensor-valued dicts). */
  stateDicts: string[];
  epoch?: number;
  /** The pickled `argparse.Namespace` as a plain object. */
  args?: Record<string, unknown>;
  /** Other top-level scalars / small containers (tensors described, not read). */
  other: Record<string, unknown>;
  prefix: string;
  version?: string;
}

export interface TorchCheckpoint {
  /** Tensors by their key in the file (e.g. `module.backbone.conv1.weight`), file order. */
  tensors: Map<string, TorchTensor>;
  meta: TorchCheckpointMeta;
}

export interface LoadTorchCheckpointOptions {
  /**
   * Entry to read. Default: `teacher` if present, else `state_dict`, `model`, `student`;
   * a file that is itself a state_dict is read whole.
   */
  entry?: string;
  /**
   * Read globals that are off the allow-list as uncallable names (`{ global: 'mod.name' }`
   * in `meta`) instead of refusing the file. Calling one is still refused.
   */
  inertGlobals?: boolean;
}

const DEFAULT_ENTRIES = ['teacher', 'state_dict', 'model', 'student'];

/** Reads one state dictionary (and the metadata) from a `.pth` path or its bytes. */
export function loadTorchCheckpoint(
  input: string | Uint8Array,
  opts: LoadTorchCheckpointOptions = {},
): TorchCheckpoint {
  const file = openTorchFile(input, { inertGlobals: opts.inertGlobals });
  const name = typeof input === 'string' ? input : 'checkpoint';
  try {
    const root = file.root;
    if (!(root instanceof Map)) {
      throw new FormatError(name, `top-level object is a ${describe(root)}, expected a dict`);
    }
    const keys = [...root.keys()].map(String);
    const isStateDict = (v: unknown): v is Map<unknown, unknown> =>
      v instanceof Map && v.size > 0 && [...v.values()].every((x) => x instanceof TorchTensorRef);
    const stateDicts = keys.filter((k) => isStateDict(root.get(k)));

    let entry: string | null;
    let dict: Map<unknown, unknown>;
    if (opts.entry !== undefined) {
      const v = root.get(opts.entry);
      if (!isStateDict(v)) {
        throw new FormatError(
          name,
          `entry '${opts.entry}' is ${v === undefined ? 'absent' : `a ${describe(v)}, not a state_dict`}; ` +
            `state_dicts here: ${stateDicts.join(', ') || 'none'}`,
        );
      }
      entry = opts.entry;
      dict = v;
    } else if (isStateDict(root)) {
      entry = null;
      dict = root;
    } else {
      const found = DEFAULT_ENTRIES.find((k) => isStateDict(root.get(k)));
      if (found === undefined) {
        throw new FormatError(
          name,
          `no state_dict found (looked for ${DEFAULT_ENTRIES.join(', ')}); top-level keys: ${keys.join(', ')}`,
        );
      }
      entry = found;
      dict = root.get(found) as Map<unknown, unknown>;
    }

    const tensors = new Map<string, TorchTensor>();
    for (const [k, ref] of dict) {
      const key = String(k);
      tensors.set(key, file.readTensor(ref as TorchTensorRef, key));
    }

    const meta: TorchCheckpointMeta = {
      keys: entry === null ? [] : keys,
      entry,
      stateDicts: entry === null ? [] : stateDicts,
      other: {},
      prefix: file.prefix,
      version: file.version,
    };
    if (entry !== null) {
      for (const k of keys) {
        const v = root.get(k);
        if (stateDicts.includes(k)) continue;
        if (k === 'epoch' && typeof v === 'number') meta.epoch = v;
        else if (k === 'args' && v instanceof PyNamespace) {
          meta.args = toPlain(v) as Record<string, unknown>;
        } else meta.other[k] = toPlain(v);
      }
    }
    return { tensors, meta };
  } finally {
    file.close();
  }
}

/**
 * Unpickled value → JSON-friendly value: dicts with string keys → objects (other keys
 * are stringified), tuples/lists → arrays, Namespace → object, tensors → a description.
 */
export function toPlain(v: unknown, depth = 0): unknown {
  if (depth > 32) return '…';
  if (v instanceof TorchTensorRef) return { tensor: v.dtype, shape: v.shape };
  if (v instanceof PyNamespace) return toPlain(v.attributes, depth);
  if (v instanceof InertGlobal) return { global: v.pyGlobal };
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = toPlain(x, depth + 1);
    return o;
  }
  if (v instanceof Set) return [...v].map((x) => toPlain(x, depth + 1));
  if (Array.isArray(v)) return v.map((x) => toPlain(x, depth + 1));
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return Array.from(v);
  return v;
}
