/**
 * TensorBoard's Event message, scalar part, on bytes assembled by hand from event.proto's
 * field numbers: the simple_value form PyTorch writes, the one-element tensor form of TF2
 * (half_val, tensor_content), and what is not a scalar.
 */
import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeEvent } from '../../../src/interop/tensorboard/eventProto';
import { ProtoError } from '../../../src/interop/tensorboard/protoWire';

/** A length-delimited field (lengths below 128). */
const len = (field: number, bytes: number[]) => [(field << 3) | 2, bytes.length, ...bytes];
const text = (s: string) => [...new TextEncoder().encode(s)];
/** An Event at step 7 whose summary holds one Value `b` with TensorProto `tensor`. */
const tensorEvent = (tensor: number[], extra: number[] = []) =>
  Uint8Array.from([
    0x10,
    7,
    ...len(5, len(1, [...len(1, text('b')), ...len(8, tensor), ...extra])),
  ]);

describe('encodeEvent', () => {
  it('writes wall time, step and scalars as simple_value', () => {
    const bytes = encodeEvent({ wallTime: 0.5, step: 300, scalars: [{ tag: 'a', value: 1 }] });
    const value = [...len(1, text('a')), 0x15, 0, 0, 0x80, 0x3f];
    expect([...bytes]).toEqual([
      0x09,
      0,
      0,
      0,
      0,
      0,
      0,
      0xe0,
      0x3f, // wall_time 0.5
      0x10,
      0xac,
      0x02, // step 300
      ...len(5, len(1, value)),
    ]);
    expect(decodeEvent(bytes)).toEqual({
      wallTime: 0.5,
      step: 300,
      scalars: [{ tag: 'a', value: 1 }],
    });
  });

  it('writes the file-version header', () => {
    const bytes = encodeEvent({ wallTime: 0, step: 0, fileVersion: 'brain.Event:2', scalars: [] });
    expect(decodeEvent(bytes)).toEqual({
      wallTime: 0,
      step: 0,
      fileVersion: 'brain.Event:2',
      scalars: [],
    });
  });
});

describe('decodeEvent', () => {
  it('reads one-element tensors: half_val and int64 tensor_content', () => {
    // dtype DT_HALF = 19, half_val (field 13, varint) 0x3c00 = 1.0
    expect(decodeEvent(tensorEvent([0x08, 19, 0x68, 0x80, 0x78]))).toEqual({
      wallTime: 0,
      step: 7,
      scalars: [{ tag: 'b', value: 1 }],
    });
    // dtype DT_INT64 = 9, tensor_content -2 little-endian
    const minusTwo = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    expect(decodeEvent(tensorEvent([0x08, 9, ...len(4, minusTwo)])).scalars).toEqual([
      { tag: 'b', value: -2 },
    ]);
    // packed float_val [2.5] of a DT_FLOAT tensor of shape [1]
    const shape1 = len(2, len(2, [0x08, 1]));
    expect(
      decodeEvent(tensorEvent([0x08, 1, ...shape1, ...len(5, [0, 0, 0x20, 0x40])])).scalars,
    ).toEqual([{ tag: 'b', value: 2.5 }]);
  });

  it('skips tensors that are not scalars: other plugins, other shapes, other dtypes', () => {
    const histo = len(9, len(1, len(1, text('histograms'))));
    expect(decodeEvent(tensorEvent([0x08, 19, 0x68, 0x80, 0x78], histo)).scalars).toEqual([]);
    const shape2 = len(2, len(2, [0x08, 2]));
    expect(decodeEvent(tensorEvent([0x08, 1, ...shape2])).scalars).toEqual([]);
    expect(decodeEvent(tensorEvent([0x08, 7, ...len(4, [1])])).scalars).toEqual([]); // DT_STRING
  });

  it('throws ProtoError for tensor_content of the wrong size', () => {
    expect(() => decodeEvent(tensorEvent([0x08, 1, ...len(4, [0, 0])]))).toThrow(
      new ProtoError('tensor_content has 2 bytes, expected 4'),
    );
  });
});
