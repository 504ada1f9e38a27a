/**
 * The byte-level half of the restricted unpickler (pickle.ts): a bounds-checked cursor over
 * the pickle bytes and the opcodes that push one scalar (None, bool, int, float, str,
 * bytes). None of these can name or call anything, so they need no allow-list.
 * Opcode reference: CPython Lib/pickletools.py.
 */

import { FormatError } from './formatError';

/** Raised for malformed input (truncated data, bad memo index, stack underflow). */
export class PickleError extends FormatError {
  override name = 'PickleError';
}

/** Raised when the pickle asks for something outside the allow-list. */
export class UnsafePickleError extends PickleError {
  override name = 'UnsafePickleError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Reads little-endian fields; every read checks the remaining length first. */
export class ByteCursor {
  pos: number;
  /** Where the opcode being executed starts (for error messages). */
  opPos: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly source: string,
  ) {
    this.pos = start;
    this.opPos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(msg: string): never {
    throw new PickleError(this.source, `${msg} (opcode at byte ${this.opPos})`, {
      offset: this.opPos,
    });
  }

  /** Starts the next opcode. */
  opcode(): number {
    this.opPos = this.pos;
    return this.u8();
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.bytes.length) {
      this.fail(`truncated: needs ${n} more bytes, ${this.bytes.length - this.pos} left`);
    }
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2, true);
  }

  u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4, true);
  }

  i32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getInt32(this.pos - 4, true);
  }

  /** A 64-bit length; anything beyond 2^53 cannot be a real length here. */
  u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} too large`);
    return Number(v);
  }

  /** Pickle's BINFLOAT is big-endian. */
  f64be(): number {
    this.need(8);
    this.pos += 8;
    return this.view.getFloat64(this.pos - 8, false);
  }

  take(n: number): Uint8Array {
    this.need(n);
    this.pos += n;
    return this.bytes.subarray(this.pos - n, this.pos);
  }

  /** A newline-terminated text argument (GLOBAL, text-protocol opcodes). */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: missing newline');
    const s = latin1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  str(n: number): string {
    const raw = this.take(n);
    try {
      return utf8.decode(raw);
    } catch {
      return this.fail('invalid UTF-8 in a string');
    }
  }
}

/** Returned by `readScalar` for opcodes that are not scalar pushes. */
export const NOT_SCALAR = Symbol('not a scalar opcode');

/** Executes `op` if it pushes a scalar and returns that value; otherwise NOT_SCALAR. */
export function readScalar(op: number, c: ByteCursor): unknown {
  const fail = (m: string): never => c.fail(m);
  switch (op) {
    case 0x4e: // NONE
      return null;
    case 0x88: // NEWTRUE
      return true;
    case 0x89: // NEWFALSE
      return false;
    case 0x4a: // BININT
      return c.i32();
    case 0x4b: // BININT1
      return c.u8();
    case 0x4d: // BININT2
      return c.u16();
    case 0x8a: // LONG1
      return longFromBytes(c.take(c.u8()));
    case 0x8b: // LONG4
      return longFromBytes(c.take(c.u32()));
    case 0x49: {
      // INT (text): "I01\n" / "I00\n" are protocol-0 booleans
      const s = c.line();
      return s === '01' || s === '00' ? s === '01' : parseIntText(s, fail);
    }
    case 0x4c: // LONG (text)
      return parseIntText(c.line().replace(/L$/, ''), fail);
    case 0x46: // FLOAT (text)
      return Number(c.line());
    case 0x47: // BINFLOAT
      return c.f64be();
    case 0x58: // BINUNICODE
      return c.str(c.u32());
    case 0x8c: // SHORT_BINUNICODE
      return c.str(c.u8());
    case 0x8d: // BINUNICODE8
      return c.str(c.u64());
    case 0x54: // BINSTRING (Python 2 str)
      return latin1.decode(c.take(c.u32()));
    case 0x55: // SHORT_BINSTRING
      return latin1.decode(c.take(c.u8()));
    case 0x42: // BINBYTES
      return c.take(c.u32()).slice();
    case 0x43: // SHORT_BINBYTES
      return c.take(c.u8()).slice();
    case 0x8e: // BINBYTES8
    case 0x96: // BYTEARRAY8
      return c.take(c.u64()).slice();
    default:
      return NOT_SCALAR;
  }
}

/** Little-endian two's-complement integer of any length (LONG1 / LONG4). */
function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return toInt(v);
}

export function parseIntText(s: string, fail: (m: string) => never): number | bigint {
  if (!/^[-+]?\d+$/.test(s)) fail(`bad integer literal '${s}'`);
  return toInt(BigInt(s));
}

/** Python ints as JS numbers when exact, bigint beyond ±2^53. */
function toInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}
