/**
 * Opens a PyTorch `.pth` file (the zip format `torch.save` has written since 1.6; §8)
 * without Python: the pickle `<prefix>/data.pkl` is run through the restricted unpickler
 * with the allow-list of torchGlobals.ts, and each persistent id
 * `('storage', torch.<T>Storage, key, location, numel)` becomes a `StorageRef` to
 * `<prefix>/data/<key>`. Tensor bytes are read only when `readTensor` asks for them, so
 * loading the teacher of a training checkpoint never touches the optimiser's storages.
 * Files from torch < 1.6 (no zip: pickles back to back) go to torchLegacy.ts.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { FormatError } from '../util/formatError';
import { ZipArchive, bufferSource } from './zipArchive';
import { unpickle } from '../util/pickle';
import { resolveTorchGlobal, storageFromPid } from './torchGlobals';
import { readLegacyTorchFile } from './torchLegacy';
import { StorageRef, TorchTensor, TorchTensorRef, materialize } from './torchTensor';

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
  const inert = opts.inertGlobals ?? false;
  if (!looksLikeZip(typeof input === 'string' ? head(input) : input)) {
    // Legacy files must be read whole: their pickles have no index.
    const bytes = typeof input === 'string' ? new Uint8Array(readFileSync(input)) : input;
    if (bytes[0] === 0x80) return readLegacyTorchFile(bytes, name, inert);
  }
  const zip =
    typeof input === 'string'
      ? ZipArchive.open(input, name)
      : new ZipArchive(bufferSource(input, name), name);
  try {
    return readArchive(zip, name, inert);
  } catch (e) {
    zip.close();
    throw e;
  }
}

function head(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(4);
    const n = readSync(fd, b, 0, 4, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** True when the bytes start like a zip (the post-1.6 format) rather than a legacy pickle. */
export function looksLikeZip(head: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => head[i] === b);
}

function readArchive(zip: ZipArchive, name: string, inertGlobals: boolean): TorchFile {
  const pkl = [...zip.entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkl === undefined) {
    throw new FormatError(
      name,
      `no '<prefix>/data.pkl' in the zip; expected a torch.save file ` +
        `(entries: ${[...zip.entries.keys()].slice(0, 5).join(', ')}…)`,
    );
  }
  const prefix = pkl.includes('/') ? pkl.slice(0, pkl.indexOf('/')) : '';
  const at = (f: string): string => (prefix ? `${prefix}/${f}` : f);
  const text = (f: string): string | undefined =>
    zip.entries.has(at(f)) ? new TextDecoder().decode(zip.read(at(f))).trim() : undefined;
  const order = text('byteorder') ?? 'little';
  if (order !== 'little' && order !== 'big')
    throw new FormatError(name, `unknown byteorder '${order}' (expected little or big)`);

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
        throw new FormatError(name, `tensor ${label ?? ''} refers to missing storage '${entry}'`);
      }
      return materialize(ref, zip.read(entry), {
        bigEndian: order === 'big',
        label: `tensor '${label ?? entry}'`,
        file: name,
      });
    },
    close: () => zip.close(),
  };
}
