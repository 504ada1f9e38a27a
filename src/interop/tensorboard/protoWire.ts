/**
 * The protobuf wire format, as much as TensorBoard's Event messages need: a reader of
 * tagged fields (varint, 64-bit, length-delimited, 32-bit; unknown fields skipped) and a
 * writer. Malformed input throws `ProtoError` (the event reader adds the file name).
 */

export class ProtoError extends Error {}

/** Wire types. */
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export class ProtoReader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new ProtoError(`${what} runs past the end of the message`);
  }

  /** An unsigned varint (up to 64 bits). */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      this.need(1, 'varint');
      const b = this.bytes[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** A varint as a JS number (int32/uint32/enum fields, lengths). */
  smallVarint(): number {
    return Number(BigInt.asIntN(64, this.varint()));
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.smallVarint();
    const field = t >>> 3;
    if (field === 0) throw new ProtoError('field number 0');
    return { field, wire: t & 7 };
  }

  double(): number {
    this.need(8, 'double');
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4, 'float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field's bytes (a view). */
  bytesField(): Uint8Array {
    const n = this.smallVarint();
    if (n < 0) throw new ProtoError('negative length');
    this.need(n, 'length-delimited field');
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.bytesField());
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    if (wire === VARINT) {
      this.varint();
    } else if (wire === LEN) {
      this.bytesField();
    } else if (wire === I64 || wire === I32) {
      const n = wire === I64 ? 8 : 4;
      this.need(n, wire === I64 ? 'fixed64' : 'fixed32');
      this.pos += n;
    } else {
      throw new ProtoError(`unsupported wire type ${wire}`);
    }
  }
}

/** Builds a message field by field. */
export class ProtoWriter {
  private readonly parts: number[] = [];

  private varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  int64(field: number, v: number): this {
    this.tag(field, VARINT);
    this.varint(v);
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, I64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.parts.push(...b);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, v: Uint8Array): this {
    this.tag(field, LEN);
    this.varint(v.length);
    for (const x of v) this.parts.push(x);
    return this;
  }

  string(field: number, v: string): this {
    return this.bytes(field, new TextEncoder().encode(v));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
