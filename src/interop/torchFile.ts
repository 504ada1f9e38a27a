/**
 * Opens a PyTorch `.pth` file (the zip format `torch.save` has written since 1.6; spec §8)
 * without Python: the pickle `<prefix>/data.pkl` is run through the restricted unpickler
 * with the allow-list of torchGlobals.ts, and each persistent id
 * `('storage', torch.<T>Storage, key, location, numel)` becomes a `StorageRef` to
 * `<prefix>/data/<key>`. Tensor bytes are read only when `readTensor` asks for them, so
 * loading the teacher of a training checkpoint never touches the optimiser's storages.
 */
import { ZipArchive, bufferSource } from './zipArchive';
import { unpickle, describe } from './pickle';
import { resolveTorchGlobal, storageTypeOf } from './torchGlobals';
import { STORAGE_TYPES, StorageRef, TorchTensor, TorchTensorRef, materialize } from './torchTensor';

export interface TorchFile {
  /** The unpickled object: Maps, arrays, scalars, `TorchTensorRef`s, `PyNamespace`s. */
  readonly root: unknown;
  /** The archive's top folder (`archive` in recent torch, the file stem in older ones). */
  readonly prefix: string;
  /** Serialisation version recorded in `<prefix>/version`, if present. */
  readonly version: string | undefined;
  readonly byteOrder: 'little' | 'big';
  /** Reads and densifies one tensor; `label` names it in errors (its key). */
  readTensor(ref: TorchTensorRef, label?: string): TorchTensor;
  close(): void;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

export interface OpenTorchFileOptions {
  /** Names the file in errors (default: the path, or `checkpoint` for bytes). */
  label?: string;
  /** Read globals off the allow-list as uncallable names instead of refusing them. */
  inertGlobals?: boolean;
}

/** Opens a `.pth` from a path (read lazily) or from bytes already in memory. */
export function openTorchFile(
  input: string | Uint8Array,
  opts: OpenTorchFileOptions = {},
): TorchFile {
  const name = opts.label ?? (typeof input === 'string' ? input : 'checkpoint');
  const zip =
    typeof input === 'string' ? ZipArchive.open(input) : new ZipArchive(bufferSource(input), name);
  try {
    return readArchive(zip, name, opts.inertGlobals ?? false);
  } catch (e) {
    zip.close();
    throw e;
  }
}

/** True when the bytes start like a zip (the post-1.6 format) rather than a legacy pickle. */
export function looksLikeZip(head: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => head[i] === b);
}

function readArchive(zip: ZipArchive, name: string, inertGlobals: boolean): TorchFile {
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl === undefined) {
    throw new Error(
      `${name}: no '<prefix>/data.pkl' in the zip; is this a torch.save file? ` +
        `(entries: ${[...zip.entries.keys()].slice(0, 5).join(', ')}…)`,
    );
  }
  const prefix = pkl.includes('/') ? pkl.slice(0, pkl.indexOf('/')) : '';
  const at = (f: string): string => (prefix ? `${prefix}/${f}` : f);
  const text = (f: string): string | undefined =>
    zip.entries.has(at(f)) ? new TextDecoder().decode(zip.read(at(f))).trim() : undefined;
  const order = text('byteorder') ?? 'little';
  if (order !== 'little' && order !== 'big')
    throw new Error(`${name}: unknown byteorder '${order}'`);

  const storages = new Map<string, StorageRef>();
  const source = `${name}:${pkl}`;
  const root = unpickle(zip.read(pkl), {
    source,
    resolveGlobal: (m, n) => resolveTorchGlobal(m, n, source, inertGlobals),
    persistentLoad: (pid) => storageFromPid(pid, storages, source),
  });

  return {
    root,
    prefix,
    version: text('version'),
    byteOrder: order,
    readTensor(ref, label) {
      const entry = at(`data/${ref.storage.key}`);
      if (!zip.entries.has(entry)) {
        throw new Error(`${name}: tensor ${label ?? ''} refers to missing storage '${entry}'`);
      }
      return materialize(ref, zip.read(entry), {
        bigEndian: order === 'big',
        label: `${name}: tensor '${label ?? entry}'`,
      });
    },
    close: () => zip.close(),
  };
}

/** `('storage', torch.FloatStorage, '0', 'cpu', numel)` → a shared `StorageRef`. */
function storageFromPid(pid: unknown, seen: Map<string, StorageRef>, source: string): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`${source}: persistent id is a ${describe(pid)}, expected ('storage', …)`);
  }
  const [, type, key, location, numel] = pid;
  const typeName = storageTypeOf(type);
  if (typeName === undefined) {
    throw new Error(`${source}: persistent id names ${describe(type)}, not a torch storage type`);
  }
  if (typeof key !== 'string' || !/^\w+$/.test(key)) {
    throw new Error(`${source}: storage key ${String(key)} is not a plain name`);
  }
  const known = seen.get(key);
  if (known) return known;
  const ref: StorageRef = {
    key,
    dtype: STORAGE_TYPES[typeName],
    numel: typeof numel === 'number' ? numel : Number(numel),
    location: typeof location === 'string' ? location : String(location),
  };
  seen.set(key, ref);
  return ref;
}
