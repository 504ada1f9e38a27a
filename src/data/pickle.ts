/**
 * Python pickles of plain data (dict, list, tuple, str, bytes, int, float, bool, None),
 * protocols 2–5: enough for the revisited Oxford/Paris ground-truth files
 * (`gnd_roxford5k.pkl`, `gnd_rparis6k.pkl`, §9.7) without a Python dependency.
 *
 * The machine is the restricted unpickler that reads torch checkpoints
 * (src/interop/pickle.ts) with an empty allow-list: every global is refused at its GLOBAL
 * opcode, so pickles that reconstruct objects (numpy arrays, classes) fail with a message
 * pointing at the JSON conversion (src/data/revisited.ts documents the one-liner).
 * Dicts come back as plain objects and tuples as arrays.
 */
import { MAX_PICKLE_DEPTH, PickleError, UnsafePickleError, unpickle } from '../util/pickle';

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | { [k: string]: PickleValue };

/** Decodes a pickle; `file` names the source in errors (which give the opcode's byte offset). */
export function readPickle(buf: Uint8Array, file = '<buffer>'): PickleValue {
  const value = unpickle(buf, {
    source: file,
    resolveGlobal: (module, name) => {
      throw new UnsafePickleError(
        file,
        `the pickle reconstructs Python objects (${module}.${name}, e.g. numpy arrays); ` +
          'convert it to JSON with Python first',
      );
    },
  });
  return toPlain(value, file, new Set(), 0);
}

/**
 * Maps → objects (string or number keys), frozen tuples → arrays, recursively. A container
 * that contains itself (memo references can build cycles) or nests deeper than
 * MAX_PICKLE_DEPTH is a `PickleError`, not a stack overflow.
 */
function toPlain(v: unknown, file: string, path: Set<unknown>, depth: number): PickleValue {
  if (!(Array.isArray(v) || v instanceof Map)) {
    if (v instanceof Set)
      throw new PickleError(
        file,
        'a set is not plain data (expected dict, list, tuple or scalars)',
      );
    return v as PickleValue;
  }
  if (path.has(v))
    throw new PickleError(file, 'a container contains itself (expected a tree of plain data)');
  if (depth > MAX_PICKLE_DEPTH) {
    throw new PickleError(file, `containers nest deeper than ${MAX_PICKLE_DEPTH} levels`);
  }
  path.add(v);
  try {
    if (Array.isArray(v)) return v.map((x) => toPlain(x, file, path, depth + 1));
    const out: { [k: string]: PickleValue } = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string' && typeof k !== 'number') {
        throw new PickleError(file, `a dict key is a ${typeof k}; expected str or int keys`);
      }
      out[String(k)] = toPlain(x, file, path, depth + 1);
    }
    return out;
  } finally {
    path.delete(v);
  }
}
