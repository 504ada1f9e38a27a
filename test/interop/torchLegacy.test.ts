/**
 * The pre-1.6 torch.save layout, on headers assembled by hand from its five pickles
 * (magic, protocol version, sys_info, object, storage keys) and on the torch-written
 * fixture; the tensors themselves are checked through openTorchFile in torchFile.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLegacyTorchFile } from '../../src/interop/torchLegacy';
import { FormatError } from '../../src/util/formatError';
import { PROJECT_ROOT } from '../helpers/golden';

const PROTO2 = [0x80, 2];
const STOP = 0x2e;
const str = (s: string) => [0x8c, s.length, ...new TextEncoder().encode(s)];
/** LONG1 of 0x1950a86a20f9469cfc6c, little-endian. */
const MAGIC = [
  ...PROTO2,
  0x8a,
  10,
  0x6c,
  0xfc,
  0x9c,
  0x46,
  0xf9,
  0x20,
  0x6a,
  0xa8,
  0x50,
  0x19,
  STOP,
];
const version = (v: number) => [...PROTO2, 0x4d, v & 0xff, v >> 8, STOP]; // BININT2
const SYS_LITTLE = [...PROTO2, 0x7d, STOP]; // {}
const SYS_BIG = [...PROTO2, 0x7d, ...str('little_endian'), 0x89, 0x73, STOP]; // {little_endian: False}
const NONE = [...PROTO2, 0x4e, STOP];
const EMPTY_LIST = [...PROTO2, 0x5d, STOP];

const file = (...pickles: number[][]) => Uint8Array.from(pickles.flat());

describe('readLegacyTorchFile', () => {
  it('reads a header with no storages, in either byte order', () => {
    const little = readLegacyTorchFile(
      file(MAGIC, version(1001), SYS_LITTLE, NONE, EMPTY_LIST),
      'a.pth',
      false,
    );
    expect(little.root).toBeNull();
    expect(little.version).toBe('legacy 1001');
    expect(little.byteOrder).toBe('little');
    expect(little.prefix).toBe('');
    const big = readLegacyTorchFile(
      file(MAGIC, version(1001), SYS_BIG, NONE, EMPTY_LIST),
      'b',
      false,
    );
    expect(big.byteOrder).toBe('big');
  });

  it('refuses a wrong magic number, protocol version or key list, naming the file', () => {
    const seven = [...PROTO2, 0x4b, 7, STOP];
    expect(() => readLegacyTorchFile(file(seven), 'x.pth', false)).toThrow(
      new FormatError(
        'x.pth',
        'neither a zip nor a legacy torch file (magic number 7); expected magic 0x1950a86a20f9469cfc6c',
      ),
    );
    expect(() => readLegacyTorchFile(file(MAGIC, version(1000)), 'x.pth', false)).toThrow(
      'x.pth: legacy protocol version 1000, expected 1001',
    );
    expect(() =>
      readLegacyTorchFile(file(MAGIC, version(1001), SYS_LITTLE, NONE, seven), 'x.pth', false),
    ).toThrow('x.pth: storage key list is a number, expected a list of str');
    const keyK = [...PROTO2, 0x5d, ...str('k'), 0x61, STOP]; // ['k']
    expect(() =>
      readLegacyTorchFile(file(MAGIC, version(1001), SYS_LITTLE, NONE, keyK), 'x.pth', false),
    ).toThrow("x.pth: storage 'k' is listed but no tensor uses it");
  });

  it('reads the torch-written fixture as little-endian legacy 1001 with a dict root', () => {
    const path = join(PROJECT_ROOT, 'test', 'fixtures', 'interop', 'dtypes-legacy.pth');
    const f = readLegacyTorchFile(new Uint8Array(readFileSync(path)), path, false);
    expect(f.version).toBe('legacy 1001');
    expect(f.byteOrder).toBe('little');
    expect([...(f.root as Map<string, unknown>).keys()]).toEqual(['tensors', 'nested', 'args']);
    f.close();
  });
});
