/**
 * A minimal Python pickle reader for plain data (dict, list, tuple, str, bytes, int, float,
 * bool, None), protocols 2–5: enough for the revisited Oxford/Paris ground-truth files
 * (`gnd_roxford5k.pkl`, `gnd_rparis6k.pkl`, spec §9.7) without a Python dependency.
 * Pickles that reconstruct objects (numpy arrays, classes) are refused with a message
 * pointing at the JSON conversion (data-scripts/revisited.ts documents the one-liner).
 */

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | { [k: string]: PickleValue };

/** Decodes a pickle; `file` names the source in errors (which give the byte offset). */
export function readPickle(buf: Uint8Array, file = '<buffer>'): PickleValue {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dec = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  const fail = (at: number, msg: string): never => {
    throw new Error(`${file}: cannot read pickle at byte offset ${at}: ${msg}`);
  };
  const need = (n: number) => {
    if (pos + n > buf.length) fail(pos, `truncated (needs ${n} more bytes)`);
  };
  const u8 = () => (need(1), buf[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => (need(8), (pos += 8), Number(view.getBigUint64(pos - 8, true)));
  const bytes = (n: number) => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail(pos - 1, 'no MARK on the stack');
    return stack.splice(m!);
  };
  const top = () => (stack.length ? stack[stack.length - 1] : fail(pos - 1, 'empty stack'));
  const setItems = (d: unknown, kv: unknown[], at: number) => {
    if (d === null || typeof d !== 'object' || Array.isArray(d)) fail(at, 'SETITEM on a non-dict');
    for (let i = 0; i < kv.length; i += 2)
      (d as Record<string, unknown>)[String(kv[i])] = kv[i + 1];
  };
  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80:
        u8();
        break; // PROTO
      case 0x95:
        u64();
        break; // FRAME
      case 0x2e: {
        // STOP
        if (stack.length !== 1) fail(at, `STOP with ${stack.length} items on the stack`);
        return stack[0] as PickleValue;
      }
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x7d:
        stack.push({});
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push([]);
        break; // EMPTY_TUPLE (as array)
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x4a:
        stack.push(u32() | 0);
        break; // BININT
      case 0x8a: {
        // LONG1
        const n = u8();
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v,
        );
        break;
      }
      case 0x47:
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break; // BINFLOAT
      case 0x58:
        stack.push(dec.decode(bytes(u32())));
        break; // BINUNICODE
      case 0x8c:
        stack.push(dec.decode(bytes(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(dec.decode(bytes(u64())));
        break; // BINUNICODE8
      case 0x55:
        stack.push(String.fromCharCode(...bytes(u8())));
        break; // SHORT_BINSTRING
      case 0x54:
        stack.push(String.fromCharCode(...bytes(u32())));
        break; // BINSTRING
      case 0x43:
        stack.push(new Uint8Array(bytes(u8())));
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(new Uint8Array(bytes(u32())));
        break; // BINBYTES
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(at, `memo key ${k} not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x85:
        stack.push(stack.splice(-1));
        break; // TUPLE1
      case 0x86:
        stack.push(stack.splice(-2));
        break; // TUPLE2
      case 0x87:
        stack.push(stack.splice(-3));
        break; // TUPLE3
      case 0x74:
        stack.push(popMark());
        break; // TUPLE
      case 0x6c:
        stack.push(popMark());
        break; // LIST
      case 0x61: {
        const v = stack.pop();
        (top() as unknown[]).push(v);
        break;
      } // APPEND
      case 0x65: {
        const items = popMark();
        (top() as unknown[]).push(...items);
        break;
      } // APPENDS
      case 0x73: {
        const v = stack.pop();
        const k = stack.pop();
        setItems(top(), [k, v], at);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv, at);
        break;
      } // SETITEMS
      case 0x64: {
        const kv = popMark();
        const d = {};
        setItems(d, kv, at);
        stack.push(d);
        break;
      } // DICT
      case 0x63:
      case 0x93:
      case 0x52:
      case 0x62:
      case 0x81:
      case 0x92:
        fail(
          at,
          'the pickle reconstructs Python objects (e.g. numpy arrays); convert it to JSON with Python first',
        );
        break;
      default:
        fail(at, `unsupported opcode 0x${op.toString(16)}`);
    }
  }
}
