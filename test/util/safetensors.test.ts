import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
  type NamedArray,
} from '../../src/util/safetensors';
import { FormatError, IntegrityError } from '../../src/util/formatError';

function sample(): Map<string, NamedArray> {
  return new Map<string, NamedArray>([
    ['conv1.weight', { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) }],
    ['bn1.num_batches_tracked', { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) }],
    ['labels', { dtype: 'I32', shape: [3], data: new Int32Array([-1, 0, 9]) }],
  ]);
}

describe('safetensors', () => {
  it('round-trips tensors and metadata, in order', () => {
    const buf = encodeSafetensors(sample(), { step: '12' });
    const { tensors, metadata } = decodeSafetensors(buf);
    expect([...tensors.keys()]).toEqual(['conv1.weight', 'bn1.num_batches_tracked', 'labels']);
    expect(Array.from(tensors.get('conv1.weight')!.data as Float32Array)).toEqual([
      1, 2, 3, 4, 5, 6.5,
    ]);
    expect((tensors.get('bn1.num_batches_tracked')!.data as BigInt64Array)[0]).toBe(7n);
    expect(Array.from(tensors.get('labels')!.data as Int32Array)).toEqual([-1, 0, 9]);
    expect(metadata).toEqual({ step: '12' });
  });

  it('has the documented byte layout (u64 LE header length, 8-byte aligned data)', () => {
    const buf = encodeSafetensors(sample());
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header['conv1.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(buf.readFloatLE(8 + n + 20)).toBe(6.5);
  });

  it('writes atomically and leaves no temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'ckpt.safetensors');
    saveSafetensors(path, sample(), { a: 'b' });
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    expect(loadSafetensors(path).metadata).toEqual({ a: 'b' });
  });

  it('names the file and offset when truncated or corrupt', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const path = join(dir, 'bad.safetensors');
    const buf = encodeSafetensors(sample());
    writeFileSync(path, buf.subarray(0, buf.length - 4));
    expect(() => loadSafetensors(path)).toThrow(
      /bad\.safetensors: tensor "labels" bytes .* at offset/,
    );
    writeFileSync(path, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0x10]));
    expect(() => loadSafetensors(path)).toThrow(
      /bad\.safetensors: header length .* exceeds file size 8/,
    );
  });

  it('stores the sha256 of the data section and verifies it on decode', () => {
    const buf = encodeSafetensors(sample(), { step: '12' });
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    expect(header.__metadata__.data_sha256).toBe(
      createHash('sha256')
        .update(buf.subarray(8 + n))
        .digest('hex'),
    );
    expect(decodeSafetensors(buf).digest).toBe('verified');
    buf[8 + n + 3] ^= 0x40;
    expect(() => decodeSafetensors(buf, 'x.safetensors')).toThrow(IntegrityError);
    expect(() => decodeSafetensors(buf, 'x.safetensors')).toThrow(
      /^x\.safetensors: tensor data .* does not match its sha256 digest/,
    );
  });

  it('header fields of the wrong type are FormatErrors, not TypeErrors', () => {
    const make = (header: unknown) => {
      const json = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, Buffer.alloc(8)]);
    };
    for (const [header, message] of [
      [[1, 2], /header at offset 8 is not a JSON object/],
      [{ x: null }, /tensor "x": expected \{dtype, shape, data_offsets\}/],
      [
        { x: { dtype: 'toString', shape: [], data_offsets: [0, 4] } },
        /unsupported dtype "toString"/,
      ],
      [{ x: { dtype: 'F32', shape: 3, data_offsets: [0, 4] } }, /shape 3; expected a list/],
      [{ x: { dtype: 'F32', shape: [1], data_offsets: 'a' } }, /data_offsets "a"; expected/],
      [{ __metadata__: { a: 1 } }, /__metadata__ is not an object of strings/],
    ] as const) {
      expect(() => decodeSafetensors(make(header), 'h.safetensors')).toThrow(FormatError);
      expect(() => decodeSafetensors(make(header), 'h.safetensors')).toThrow(message);
    }
  });

  it('rejects a tensor whose data does not fit its shape', () => {
    const m = new Map<string, NamedArray>([
      ['x', { dtype: 'F32', shape: [4], data: new Float32Array(3) }],
    ]);
    expect(() => encodeSafetensors(m)).toThrow(/"x" has 3 values but shape \[4\]/);
  });
});
