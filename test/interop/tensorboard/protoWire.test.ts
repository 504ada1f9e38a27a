/**
 * The protobuf wire format against bytes worked out by hand from the encoding rules
 * (tag = field << 3 | wire type; varints little-endian in 7-bit groups).
 */
import { describe, expect, it } from 'vitest';
import { ProtoError, ProtoReader, ProtoWriter } from '../../../src/interop/tensorboard/protoWire';

describe('ProtoWriter', () => {
  it('writes each field kind as its tag and payload', () => {
    // 300 = 0b10_0101100 → 0xac 0x02; tag 1<<3|0 = 0x08
    expect([...new ProtoWriter().int64(1, 300).finish()]).toEqual([0x08, 0xac, 0x02]);
    // tag 2<<3|2 = 0x12, length 2, 'h' 'i'
    expect([...new ProtoWriter().string(2, 'hi').finish()]).toEqual([0x12, 2, 0x68, 0x69]);
    // tag 3<<3|5 = 0x1d, 1.0f = 0x3f800000 little-endian
    expect([...new ProtoWriter().float(3, 1).finish()]).toEqual([0x1d, 0, 0, 0x80, 0x3f]);
    // tag 4<<3|1 = 0x21, 0.5 = 0x3fe0000000000000 little-endian
    expect([...new ProtoWriter().double(4, 0.5).finish()]).toEqual([
      0x21, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f,
    ]);
    // -1 as a 64-bit two's-complement varint: nine 0xff then 0x01
    expect([...new ProtoWriter().int64(1, -1).finish()]).toEqual([
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
  });
});

describe('ProtoReader', () => {
  it('reads back tags and values, skipping fields it is asked to skip', () => {
    const bytes = Uint8Array.from([
      0x08, 0xac, 0x02, 0x12, 2, 0x68, 0x69, 0x1d, 0, 0, 0x80, 0x3f, 0x21, 0, 0, 0, 0, 0, 0, 0xe0,
      0x3f,
    ]);
    const r = new ProtoReader(bytes);
    expect(r.tag()).toEqual({ field: 1, wire: 0 });
    expect(r.varint()).toBe(300n);
    expect(r.tag()).toEqual({ field: 2, wire: 2 });
    expect(r.string()).toBe('hi');
    expect(r.tag()).toEqual({ field: 3, wire: 5 });
    r.skip(5);
    expect(r.tag()).toEqual({ field: 4, wire: 1 });
    expect(r.double()).toBe(0.5);
    expect(r.done()).toBe(true);
  });

  it('reads a sub-range and a negative varint as a signed number', () => {
    const bytes = Uint8Array.from([0x99, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1]);
    const r = new ProtoReader(bytes, 1);
    expect(r.smallVarint()).toBe(-1);
    expect(r.done()).toBe(true);
  });

  it('throws ProtoError on malformed messages', () => {
    const read = (b: number[], f: (r: ProtoReader) => unknown) => () =>
      f(new ProtoReader(Uint8Array.from(b)));
    expect(read([0x80], (r) => r.varint())).toThrow(
      new ProtoError('varint runs past the end of the message'),
    );
    expect(read(Array(11).fill(0x80), (r) => r.varint())).toThrow('varint longer than 10 bytes');
    expect(read([0x00], (r) => r.tag())).toThrow('field number 0');
    expect(read([3, 0x68], (r) => r.bytesField())).toThrow(
      'length-delimited field runs past the end of the message',
    );
    expect(read([0, 0], (r) => r.float())).toThrow('float runs past the end of the message');
    expect(read([], (r) => r.skip(3))).toThrow('unsupported wire type 3');
    expect(read([1, 2, 3], (r) => r.skip(5))).toThrow('fixed32 runs past the end of the message');
  });
});
