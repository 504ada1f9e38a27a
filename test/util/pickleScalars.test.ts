/**
 * The scalar opcodes of the restricted unpickler, on opcode arguments written by hand from
 * CPython's pickletools descriptions (little-endian except BINFLOAT).
 */
import { describe, expect, it } from 'vitest';
import {
  ByteCursor,
  NOT_SCALAR,
  parseIntText,
  PickleError,
  readScalar,
} from '../../src/util/pickleScalars';

/** Runs opcode `op` on argument bytes `args`; returns the value and where the cursor ended. */
function run(op: number, args: number[] | string): { value: unknown; pos: number } {
  const bytes = typeof args === 'string' ? new TextEncoder().encode(args) : Uint8Array.from(args);
  const c = new ByteCursor(bytes, 0, 'x.pkl');
  return { value: readScalar(op, c), pos: c.pos };
}

describe('readScalar', () => {
  it('pushes None and booleans without arguments', () => {
    expect(run(0x4e, [])).toEqual({ value: null, pos: 0 });
    expect(run(0x88, []).value).toBe(true);
    expect(run(0x89, []).value).toBe(false);
  });

  it('reads binary integers of each width', () => {
    expect(run(0x4b, [5])).toEqual({ value: 5, pos: 1 });
    expect(run(0x4d, [0x01, 0x02])).toEqual({ value: 513, pos: 2 });
    expect(run(0x4a, [0xff, 0xff, 0xff, 0xff])).toEqual({ value: -1, pos: 4 });
    // LONG1: length 2, 0x8000 in two's complement = -32768
    expect(run(0x8a, [2, 0x00, 0x80])).toEqual({ value: -32768, pos: 3 });
    // LONG1: 2^64 does not fit a double exactly → bigint
    expect(run(0x8a, [9, 0, 0, 0, 0, 0, 0, 0, 0, 1]).value).toBe(18446744073709551616n);
    expect(run(0x8a, [0]).value).toBe(0);
    // LONG4: length 1 (u32), 0x7f
    expect(run(0x8b, [1, 0, 0, 0, 0x7f])).toEqual({ value: 127, pos: 5 });
  });

  it('reads the text-protocol integers, with I01/I00 as booleans', () => {
    expect(run(0x49, '01\n')).toEqual({ value: true, pos: 3 });
    expect(run(0x49, '00\n').value).toBe(false);
    expect(run(0x49, '-42\n').value).toBe(-42);
    expect(run(0x4c, '12345678901234567890L\n').value).toBe(12345678901234567890n);
    expect(run(0x46, '2.5\n').value).toBe(2.5);
  });

  it('reads BINFLOAT big-endian', () => {
    // 1.5 = 0x3ff8000000000000
    expect(run(0x47, [0x3f, 0xf8, 0, 0, 0, 0, 0, 0])).toEqual({ value: 1.5, pos: 8 });
  });

  it('reads strings and bytes', () => {
    expect(run(0x8c, [2, 0x68, 0x69]).value).toBe('hi');
    expect(run(0x58, [3, 0, 0, 0, 0xc3, 0xa9, 0x21]).value).toBe('é!');
    expect(run(0x8d, [1, 0, 0, 0, 0, 0, 0, 0, 0x61]).value).toBe('a');
    expect(run(0x55, [1, 0xe9]).value).toBe('é'); // Python 2 str, latin-1
    expect(run(0x54, [1, 0, 0, 0, 0x41]).value).toBe('A');
    expect(run(0x43, [2, 7, 8]).value).toEqual(Uint8Array.from([7, 8]));
    expect(run(0x42, [1, 0, 0, 0, 9]).value).toEqual(Uint8Array.from([9]));
    expect(run(0x96, [1, 0, 0, 0, 0, 0, 0, 0, 3]).value).toEqual(Uint8Array.from([3]));
  });

  it('returns NOT_SCALAR for other opcodes and consumes nothing', () => {
    expect(run(0x28, [1, 2])).toEqual({ value: NOT_SCALAR, pos: 0 }); // MARK
  });

  it('throws PickleError naming the file and the opcode offset', () => {
    expect(() => run(0x4a, [1, 2])).toThrow(
      new PickleError('x.pkl', 'truncated: needs 4 more bytes, 2 left (opcode at byte 0)', {
        offset: 0,
      }),
    );
    expect(() => run(0x8c, [1, 0xff])).toThrow('x.pkl: invalid UTF-8 in a string');
    expect(() => run(0x49, '12')).toThrow('x.pkl: truncated: missing newline');
    expect(() => run(0x49, '1x\n')).toThrow("x.pkl: bad integer literal '1x'");
    expect(() => run(0x8d, [0, 0, 0, 0, 0, 0, 0x40, 0])).toThrow('too large');
  });
});

describe('parseIntText', () => {
  it('parses signed decimal text, bigint beyond 2^53', () => {
    const fail = (m: string): never => {
      throw new Error(m);
    };
    expect(parseIntText('+7', fail)).toBe(7);
    expect(parseIntText('-9007199254740993', fail)).toBe(-9007199254740993n);
    expect(() => parseIntText('1.0', fail)).toThrow("bad integer literal '1.0'");
  });
});
