/**
 * The pre-1.6 `torch.save` format (§8 names the zip one; older torchvision weights
 * and checkpoints still use this): five pickles back to back, then the raw storages.
 *
 *   1. magic number 0x1950a86a20f9469cfc6c   2. protocol version 1001
 *   3. sys_info {little_endian, type_sizes…}  4. the object, storages as persistent ids
 *      ('storage', torch.<T>Storage, key, location, numel, view_metadata)
 *   5. the storage keys in write order, then per key: int64 element count + raw bytes.
 * Source: torch/serialization.py (`_legacy_save`, `_legacy_load`). Every pickle goes
 * through the same restricted machine and allow-list as the zip format.
 */
import { FormatError } from '../util/formatError';
import { describe, unpickleAt, type UnpickleOptions } from '../util/pickle';
import { resolveTorchGlobal, storageFromPid } from './torchGlobals';
import { DTYPE_BYTES, materialize, type StorageRef } from './torchTensor';
import type { TorchFile } from './torchFile';

const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export function readLegacyTorchFile(bytes: Uint8Array, name: string, inert: boolean): TorchFile {
  const storages = new Map<string, StorageRef>();
  const opts: UnpickleOptions = {
    source: `${name} (legacy format)`,
    resolveGlobal: (m, n) => resolveTorchGlobal(m, n, `${name} (legacy format)`, inert),
    persistentLoad: (pid) => {
      if (Array.isArray(pid) && pid.length > 5 && pid[5] !== null) {
        throw new FormatError(name, `storage views (legacy view_metadata) are not supported`);
      }
      return storageFromPid(pid, storages, `${name} (legacy format)`);
    },
  };
  let at = 0;
  const next = (): unknown => {
    const r = unpickleAt(bytes, at, opts);
    at = r.end;
    return r.value;
  };
  const magic = next();
  if (magic !== MAGIC) {
    throw new FormatError(
      name,
      `neither a zip nor a legacy torch file (magic number ${String(magic)}); expected magic 0x1950a86a20f9469cfc6c`,
    );
  }
  const version = next();
  if (version !== PROTOCOL_VERSION) {
    throw new FormatError(
      name,
      `legacy protocol version ${String(version)}, expected ${PROTOCOL_VERSION}`,
    );
  }
  const sysInfo = next();
  const littleEndian = sysInfo instanceof Map ? sysInfo.get('little_endian') !== false : true;
  const root = next();
  const keys = next();
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) {
    throw new FormatError(name, `storage key list is a ${describe(keys)}, expected a list of str`);
  }

  // Locate each storage: an int64 element count, then count × element size bytes.
  const where = new Map<string, { begin: number; end: number }>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const ref = storages.get(key);
    if (!ref) throw new FormatError(name, `storage '${key}' is listed but no tensor uses it`);
    if (at + 8 > bytes.length) throw new FormatError(name, `truncated before storage '${key}'`);
    const count = Number(view.getBigInt64(at, littleEndian));
    const begin = at + 8;
    const end = begin + count * DTYPE_BYTES[ref.dtype];
    if (!Number.isSafeInteger(end) || count < 0 || end > bytes.length) {
      throw new FormatError(
        name,
        `storage '${key}' (${count} × ${ref.dtype}) runs past the end of the file`,
        { offset: at },
      );
    }
    where.set(key, { begin, end });
    at = end;
  }

  return {
    root,
    prefix: '',
    version: `legacy ${PROTOCOL_VERSION}`,
    byteOrder: littleEndian ? 'little' : 'big',
    readTensor(ref, label) {
      const w = where.get(ref.storage.key);
      if (!w)
        throw new FormatError(
          name,
          `tensor '${label ?? ''}' refers to unlisted storage '${ref.storage.key}'`,
        );
      return materialize(ref, bytes.subarray(w.begin, w.end), {
        bigEndian: !littleEndian,
        label: `tensor '${label ?? ref.storage.key}'`,
        file: name,
      });
    },
    close: () => {},
  };
}
