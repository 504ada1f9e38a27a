/**
 * The allow-list of Python globals a checkpoint may name (§8), and what each one
 * becomes here. Everything else is refused with an `UnsafePickleError` naming the
 * global — that includes `os.system`, `builtins.eval`, `subprocess.Popen`, `posix.system`,
 * `builtins.getattr` and any class whose construction could run code.
 *
 * Allowed, with the reason each is harmless:
 * - `collections.OrderedDict`: a dict (state_dicts are OrderedDicts);
 * - `torch._utils._rebuild_tensor_v2` / `_rebuild_tensor` / `_rebuild_parameter`
 *   (`_with_state`) and `torch._tensor._rebuild_from_type_v2`: describe a view of a
 *   storage; here they only build a `TorchTensorRef` (no bytes are read yet);
 * - `torch.<Name>Storage`, `torch.Tensor`, `torch.nn.parameter.Parameter`: type tokens,
 *   not callable here;
 * - `argparse.Namespace` (the `args` entry): an object that only receives attributes;
 * - `_codecs.encode(str, 'latin1')`: how protocol 2 pickles `bytes`.
 */
import { FormatError } from '../util/formatError';
import { PyBuildable, PyGlobal, UnsafePickleError, describe, isPyGlobal } from '../util/pickle';
import { STORAGE_TYPES, StorageRef, TorchTensorRef } from './torchTensor';

/** `argparse.Namespace`, read as a plain attribute bag. */
export class PyNamespace implements PyBuildable {
  readonly attributes = new Map<string, unknown>();

  pySetState(state: unknown): void {
    if (!(state instanceof Map)) {
      throw new Error(`argparse.Namespace: BUILD state is a ${describe(state)}, expected a dict`);
    }
    for (const [k, v] of state) {
      if (typeof k !== 'string')
        throw new Error('argparse.Namespace: attribute name is not a string');
      this.attributes.set(k, v);
    }
  }
}

/** A type token from the allow-list (storage types, tensor classes). */
export interface TypeToken extends PyGlobal {
  readonly tokenOf: string;
}

function token(name: string): TypeToken {
  return { pyGlobal: name, tokenOf: name };
}

/** The storage dtype named by a storage-type token, if it is one. */
export function storageTypeOf(v: unknown): string | undefined {
  if (!isPyGlobal(v) || !v.pyGlobal.startsWith('torch.')) return undefined;
  const name = v.pyGlobal.slice('torch.'.length);
  return name in STORAGE_TYPES ? name : undefined;
}

function ints(v: unknown, what: string): number[] {
  if (
    !Array.isArray(v) ||
    v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
  ) {
    throw new Error(`${what} is a ${describe(v)}, expected a tuple of non-negative ints`);
  }
  return v as number[];
}

function rebuildTensor(fn: string, args: readonly unknown[]): TorchTensorRef {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (typeof storage !== 'object' || storage === null || !('key' in storage)) {
    throw new Error(`${fn}: first argument is a ${describe(storage)}, expected a storage`);
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new Error(`${fn}: storage offset is not a non-negative int`);
  }
  const shape = ints(size, `${fn} size`);
  const strides = ints(stride, `${fn} stride`);
  if (shape.length !== strides.length) {
    throw new Error(`${fn}: size [${shape}] and stride [${strides}] differ in rank`);
  }
  return new TorchTensorRef(storage as StorageRef, offset, shape, strides, requiresGrad === true);
}

/** `_rebuild_parameter(data, requires_grad, hooks)`: the same view, flagged as a parameter's. */
function asParameter(fn: string, args: readonly unknown[]): TorchTensorRef {
  const v = args[0];
  if (!(v instanceof TorchTensorRef)) {
    throw new Error(`${fn}: data is a ${describe(v)}, not a tensor`);
  }
  return new TorchTensorRef(v.storage, v.offset, v.shape, v.stride, args[1] === true);
}

const TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter']);

const ALLOWED: Record<string, PyGlobal> = {
  'collections.OrderedDict': {
    pyGlobal: 'collections.OrderedDict',
    call(args) {
      const out = new Map<unknown, unknown>();
      // OrderedDict() or OrderedDict([(k, v), …]).
      if (args.length > 0 && Array.isArray(args[0])) {
        for (const pair of args[0] as unknown[]) {
          if (!Array.isArray(pair) || pair.length !== 2) throw new Error('OrderedDict: bad item');
          out.set(pair[0], pair[1]);
        }
      }
      return out;
    },
  },
  'torch._utils._rebuild_tensor_v2': {
    pyGlobal: 'torch._utils._rebuild_tensor_v2',
    call: (args) => rebuildTensor('_rebuild_tensor_v2', args),
  },
  'torch._utils._rebuild_tensor': {
    pyGlobal: 'torch._utils._rebuild_tensor',
    call: (args) => rebuildTensor('_rebuild_tensor', args),
  },
  'torch._utils._rebuild_parameter': {
    pyGlobal: 'torch._utils._rebuild_parameter',
    call: (args) => asParameter('_rebuild_parameter', args),
  },
  'torch._utils._rebuild_parameter_with_state': {
    pyGlobal: 'torch._utils._rebuild_parameter_with_state',
    call: (args) => asParameter('_rebuild_parameter_with_state', args),
  },
  'torch._tensor._rebuild_from_type_v2': {
    pyGlobal: 'torch._tensor._rebuild_from_type_v2',
    call(args) {
      const [fn, type, inner] = args;
      if (!isPyGlobal(type) || !TENSOR_TYPES.has(type.pyGlobal)) {
        throw new UnsafePickleError(
          '',
          `_rebuild_from_type_v2: tensor type ${describe(type)} is not allowed`,
        );
      }
      if (!isPyGlobal(fn) || !fn.call || !Array.isArray(inner)) {
        throw new UnsafePickleError(
          '',
          `_rebuild_from_type_v2: rebuild function ${describe(fn)} is not allowed`,
        );
      }
      return fn.call(inner);
    },
  },
  'argparse.Namespace': {
    pyGlobal: 'argparse.Namespace',
    construct: () => new PyNamespace(),
  },
  '_codecs.encode': {
    pyGlobal: '_codecs.encode',
    call([text, encoding]) {
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) {
        throw new UnsafePickleError('', `_codecs.encode: only (str, 'latin1') is allowed`);
      }
      return Uint8Array.from(text, (c) => c.charCodeAt(0));
    },
  },
  'torch.Tensor': token('torch.Tensor'),
  'torch.nn.parameter.Parameter': token('torch.nn.parameter.Parameter'),
};
for (const name of Object.keys(STORAGE_TYPES)) ALLOWED[`torch.${name}`] = token(`torch.${name}`);

/**
 * A global that is only named, never called (REDUCE / NEWOBJ / BUILD on it are refused by
 * the machine). With `inertGlobals`, unknown names become these, so a checkpoint whose
 * optimiser state stores e.g. a LARS filter *function* (a bare reference) can be read.
 */
export class InertGlobal implements PyGlobal {
  constructor(readonly pyGlobal: string) {}
}

/**
 * The resolver handed to `unpickle`: allow-list lookup; anything else is refused, or with
 * `inert` returned as an `InertGlobal` that can never be called.
 */
export function resolveTorchGlobal(
  module: string,
  name: string,
  source = 'pickle',
  inert = false,
): PyGlobal {
  const full = `${module}.${name}`;
  const g = Object.prototype.hasOwnProperty.call(ALLOWED, full) ? ALLOWED[full] : undefined;
  if (g) return g;
  if (inert) return new InertGlobal(full);
  throw new UnsafePickleError(
    source,
    `refusing global '${full}': not on the allow-list of tensor/container types ` +
      `(a checkpoint that names it could run code when loaded by Python). If the file only ` +
      `stores it as a value (e.g. a function in the optimizer state), the 'inertGlobals' ` +
      `option reads it as a name that can never be called.`,
  );
}

/** The globals this reader accepts (for documentation and tests). */
export const ALLOWED_GLOBALS: readonly string[] = Object.freeze(Object.keys(ALLOWED));

/**
 * A persistent id `('storage', torch.FloatStorage, key, location, numel[, view_metadata])`
 * → a `StorageRef`, one per key (tensors that share a storage share the ref).
 */
export function storageFromPid(
  pid: unknown,
  seen: Map<string, StorageRef>,
  source: string,
): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new FormatError(source, `persistent id is a ${describe(pid)}, expected ('storage', …)`);
  }
  const [, type, key, location, numel] = pid;
  const typeName = storageTypeOf(type);
  if (typeName === undefined) {
    throw new FormatError(
      source,
      `persistent id names ${describe(type)}, expected a torch storage type`,
    );
  }
  if (typeof key !== 'string' || !/^\w+$/.test(key)) {
    throw new FormatError(source, `storage key ${String(key)} is not a plain name (expected \\w+)`);
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
