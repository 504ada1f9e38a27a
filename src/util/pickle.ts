/**
 * A restricted unpickler: reads the data-only subset of Python's pickle format that
 * `torch.save` writes (§8: "a pickle plus raw tensor storages"), and nothing more.
 *
 * Why our own: a pickle is a program for a stack machine whose GLOBAL + REDUCE opcodes
 * call arbitrary Python callables (`os.system`, `builtins.eval` …). This machine calls
 * only what the caller's `resolveGlobal` hands back, and that resolver is an allow-list
 * (see torchGlobals.ts). A global that is not allowed is refused at the GLOBAL opcode
 * itself, before any REDUCE could use it; opcodes that construct arbitrary classes
 * (INST, OBJ, NEWOBJ_EX, EXT1/2/4) or need out-of-band buffers are refused outright.
 *
 * Values: None → null, bool, int → number (bigint beyond 2^53), float → number,
 * str → string, bytes → Uint8Array, list → array, tuple → frozen array, dict → Map.
 * Opcode reference: CPython Lib/pickletools.py. Scalar opcodes live in pickleScalars.ts.
 */
import {
  ByteCursor,
  NOT_SCALAR,
  UnsafePickleError,
  parseIntText,
  readScalar,
} from './pickleScalars';

import { FormatError } from './formatError';
import { PickleError } from './pickleScalars';

export { PickleError, UnsafePickleError } from './pickleScalars';

/** Deepest nesting of containers a pickle may build (deeper ones are refused, not recursed). */
export const MAX_PICKLE_DEPTH = 1000;

/** An allow-listed callable or class, as handed out by `resolveGlobal`. */
export interface PyGlobal {
  readonly pyGlobal: string;
  /** REDUCE: `callable(*args)`. */
  call?(args: readonly unknown[]): unknown;
  /** NEWOBJ: `cls.__new__(cls, *args)`. */
  construct?(args: readonly unknown[]): unknown;
}

/** Objects made by allowed globals that accept BUILD (`__setstate__`). */
export interface PyBuildable {
  pySetState(state: unknown): void;
}

export interface UnpickleOptions {
  /** Returns the allowed global `module.name`, or throws (an UnsafePickleError). */
  resolveGlobal(module: string, name: string): PyGlobal;
  /** BINPERSID: turns a persistent id (torch: a storage descriptor tuple) into a value. */
  persistentLoad?(pid: unknown): unknown;
  /** Names the source in error messages (e.g. `checkpoint.pth:archive/data.pkl`). */
  source?: string;
}

/** Attributes set by BUILD on dicts (e.g. a state_dict's `_metadata`), kept aside. */
const dictAttributes = new WeakMap<Map<unknown, unknown>, Map<unknown, unknown>>();

/** The attributes that BUILD attached to a dict, if any. */
export function attributesOf(dict: Map<unknown, unknown>): Map<unknown, unknown> | undefined {
  return dictAttributes.get(dict);
}

export function isPyGlobal(v: unknown): v is PyGlobal {
  return typeof v === 'object' && v !== null && typeof (v as PyGlobal).pyGlobal === 'string';
}

/** Opcodes that exist in pickle but are refused here (they build arbitrary objects). */
const REFUSED: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x92: 'NEWOBJ_EX',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
  0x50: 'PERSID (text protocol)',
  0x53: 'STRING (text protocol)',
  0x56: 'UNICODE (text protocol)',
};

/** Runs the restricted machine over `bytes` and returns the pickled value (STOP). */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, opts).value;
}

/**
 * Runs the machine from byte `start` up to its STOP; `end` is the byte after STOP (the
 * legacy torch format stores several pickles back to back).
 */
export function unpickleAt(
  bytes: Uint8Array,
  start: number,
  opts: UnpickleOptions,
): { value: unknown; end: number } {
  const src = opts.source ?? 'pickle';
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();

  const cur = new ByteCursor(bytes, start, src);
  const fail = (msg: string): never => cur.fail(msg);
  const pop = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) return fail('no MARK on the stack');
    return stack.splice(m);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo index ${i} was never stored`);
    return memo.get(i);
  };
  const asList = (target: unknown): unknown[] => {
    if (!Array.isArray(target) || Object.isFrozen(target)) {
      return fail(`APPEND onto a ${describe(target)}, expected a list`);
    }
    return target;
  };
  const asDict = (target: unknown): Map<unknown, unknown> => {
    if (!(target instanceof Map))
      return fail(`SETITEM onto a ${describe(target)}, expected a dict`);
    return target;
  };
  const asSet = (target: unknown): Set<unknown> => {
    if (!(target instanceof Set))
      return fail(`ADDITEMS onto a ${describe(target)}, expected a set`);
    return target;
  };
  /**
   * Runs a callback (allow-listed global, persistent load): an error without a file (or
   * not of the family) is rethrown as this pickle's, at this opcode.
   */
  const guarded = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof FormatError && e.file !== '') throw e;
      const problem = e instanceof FormatError ? e.problem : (e as Error).message;
      const Cls = e instanceof UnsafePickleError ? UnsafePickleError : PickleError;
      throw new Cls(src, `${problem} (opcode at byte ${cur.opPos})`, {
        offset: cur.opPos,
        cause: e,
      });
    }
  };
  const global = (module: string, name: string): PyGlobal => {
    const g = guarded(() => opts.resolveGlobal(module, name));
    if (!isPyGlobal(g)) fail(`resolver returned no global for ${module}.${name}`);
    return g;
  };

  for (;;) {
    const op = cur.opcode();
    const scalar = readScalar(op, cur);
    if (scalar !== NOT_SCALAR) {
      stack.push(scalar);
      continue;
    }
    switch (op) {
      case 0x80: // PROTO
        if (cur.u8() > 5) fail('unsupported pickle protocol');
        break;
      case 0x95: // FRAME (protocol 4 framing; frames are just a hint)
        cur.u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length) fail('STOP with an unbalanced stack');
        return { value: stack[0], end: cur.pos };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (stack.length > (marks.length ? marks[marks.length - 1] : 0)) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(Object.freeze([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(Object.freeze([pop(), b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x64: // DICT
        stack.push(pairsToMap(popMark(), fail, new Map()));
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top()).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = asList(top());
        for (const it of items) list.push(it);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asDict(top()).set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        pairsToMap(items, fail, asDict(top()));
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = asSet(top());
        for (const it of items) set.add(it);
        break;
      }
      case 0x71: // BINPUT
        memo.set(cur.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(cur.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: // PUT (text)
        memo.set(Number(parseIntText(cur.line(), fail)), top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(cur.u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(cur.u32()));
        break;
      case 0x67: // GET (text)
        stack.push(memoGet(Number(parseIntText(cur.line(), fail))));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n": resolved (or refused) right here
        const module = cur.line();
        stack.push(global(module, cur.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          fail('STACK_GLOBAL needs two strings');
        }
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: // REDUCE: callable(*args), callable from the allow-list only
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args), for allow-listed classes only
        const [opName, hook] =
          op === 0x52 ? (['REDUCE', 'call'] as const) : (['NEWOBJ', 'construct'] as const);
        const args = pop();
        const target = pop();
        if (!isPyGlobal(target) || !target[hook]) {
          throw new UnsafePickleError(
            src,
            `${opName} on ${describe(target)} is not allowed (opcode at byte ${cur.opPos})`,
            { offset: cur.opPos },
          );
        }
        if (!Array.isArray(args))
          fail(`${opName} arguments are a ${describe(args)}, expected a tuple`);
        stack.push(guarded(() => target[hook]!(args as unknown[])));
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state), or a dict's attributes
        const state = pop();
        const obj = top();
        guarded(() => build(obj, state, fail));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('persistent id found but no persistentLoad given');
        stack.push(guarded(() => opts.persistentLoad!(pid)));
        break;
      }
      default: {
        const name = REFUSED[op];
        if (name !== undefined) {
          throw new UnsafePickleError(
            src,
            `opcode ${name} (0x${op.toString(16)}) is not allowed (at byte ${cur.opPos})`,
            { offset: cur.opPos },
          );
        }
        fail(`unknown or unsupported opcode 0x${op.toString(16)}`);
      }
    }
  }
}

function build(obj: unknown, state: unknown, fail: (m: string) => never): void {
  if (typeof obj === 'object' && obj !== null && 'pySetState' in obj) {
    (obj as PyBuildable).pySetState(state);
  } else if (obj instanceof Map && state instanceof Map) {
    // An OrderedDict subclass instance's __dict__ (a state_dict's `_metadata`).
    const attrs = dictAttributes.get(obj) ?? new Map();
    for (const [k, v] of state) attrs.set(k, v);
    dictAttributes.set(obj, attrs);
  } else {
    fail(`BUILD on a ${describe(obj)} with a ${describe(state)} state is not supported`);
  }
}

function pairsToMap(
  items: unknown[],
  fail: (m: string) => never,
  into: Map<unknown, unknown>,
): Map<unknown, unknown> {
  if (items.length % 2) fail('odd number of items for a dict');
  for (let i = 0; i < items.length; i += 2) into.set(items[i], items[i + 1]);
  return into;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (isPyGlobal(v)) return `global ${v.pyGlobal}`;
  if (Array.isArray(v)) return Object.isFrozen(v) ? `tuple(${v.length})` : `list(${v.length})`;
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
