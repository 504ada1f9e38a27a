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
import { UnsafePickleError, unpickle } from '../util/pickle';

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
        `${file}: the pickle reconstructs Python objects (${module}.${name}, e.g. numpy arrays); ` +
          'convert it to JSON with Python first',
      );
    },
  });
  return toPlain(value, file);
}

/** Maps → objects (string or number keys), frozen tuples → arrays, recursively. */
function toPlain(v: unknown, file: string): PickleValue {
  if (Array.isArray(v)) return v.map((x) => toPlain(x, file));
  if (v instanceof Map) {
    const out: { [k: string]: PickleValue } = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string' && typeof k !== 'number') {
        throw new Error(`${file}: a dict key is a ${typeof k}; expected str or int keys`);
      }
      out[String(k)] = toPlain(x, file);
    }
    return out;
  }
  return v as PickleValue;
}
