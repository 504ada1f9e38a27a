/**
 * Fuzzing the `.pth` path: the zip container (random bytes, mutated archives: CRC-32 and
 * structure checks), the pickle machine behind it (mutated `data.pkl` re-zipped with a
 * valid CRC, so every mutation reaches the unpickler and the tensor views), the legacy
 * format, and plain-data pickles (revisited ground truth). Every case loads or ends in a
 * FormatError (PickleError, UnsafePickleError and IntegrityError are ones) naming the file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, it } from 'vitest';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { readPickle } from '../../src/data/pickle';
import { PROJECT_ROOT } from '../helpers/golden';
import { fuzz, hostileBytes, mutated, returnsOrFormatError } from './fuzz';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'interop');
const tiny = new Uint8Array(readFileSync(join(FIXTURES, 'tiny-carp.pth')));
const dtypes = new Uint8Array(readFileSync(join(FIXTURES, 'dtypes.pth')));
const legacy = new Uint8Array(readFileSync(join(FIXTURES, 'dtypes-legacy.pth')));

/** Reads every tensor of the default (or given) entry. */
function loadAll(bytes: Uint8Array, entry?: string): void {
  loadTorchCheckpoint(bytes, { entry, inertGlobals: true });
}

describe('fuzz: .pth zip archives', () => {
  it('random bytes and mutated archives', () => {
    fuzz(hostileBytes(tiny, dtypes), (b) => returnsOrFormatError(() => loadAll(b), 'checkpoint'));
  });

  it('mutated data.pkl in a valid archive (reaches the unpickler and the tensor views)', () => {
    for (const [archive, entry] of [
      [tiny, 'teacher'],
      [dtypes, 'tensors'],
    ] as const) {
      const files = unzipSync(archive);
      const pkl = Object.keys(files).find((n) => n.endsWith('/data.pkl'))!;
      fuzz(mutated(files[pkl]), (p) => {
        const zip = zipSync({ ...files, [pkl]: p }, { level: 0 });
        returnsOrFormatError(() => loadAll(zip, entry), 'checkpoint');
      });
    }
  });

  it('mutated storages in a valid archive (sizes that do not fit the views)', () => {
    const files = unzipSync(tiny);
    const storage = Object.keys(files).find((n) => /\/data\/\d+$/.test(n))!;
    fuzz(mutated(files[storage]), (s) => {
      const zip = zipSync({ ...files, [storage]: s }, { level: 0 });
      returnsOrFormatError(() => loadAll(zip, 'teacher'), 'checkpoint');
    });
  });
});

describe('fuzz: legacy (pre-1.6) torch files', () => {
  it('mutated legacy files', () => {
    fuzz(mutated(legacy), (b) => returnsOrFormatError(() => loadAll(b, 'tensors'), 'checkpoint'));
  });
});

describe('fuzz: plain-data pickles', () => {
  const fixtures = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'test', 'data', 'fixtures', 'pickles.json'), 'utf8'),
  ) as { gndPickles: Record<string, string>; misc: string };
  const valid = [...Object.values(fixtures.gndPickles), fixtures.misc].map(
    (b64) => new Uint8Array(Buffer.from(b64, 'base64')),
  );
  it('readPickle: random and mutated pickles', () => {
    fuzz(hostileBytes(...valid), (b) =>
      returnsOrFormatError(() => readPickle(b, 'gnd.pkl'), 'gnd.pkl'),
    );
  });
  it('a list that contains itself, and deep nesting, are errors, not stack overflows', () => {
    // PROTO 2, EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP: l = []; l.append(l)
    const cyclic = Uint8Array.from([0x80, 2, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e]);
    returnsOrFormatError(() => readPickle(cyclic, 'c.pkl'), 'c.pkl');
    const deep = new Uint8Array([0x80, 2, ...new Array(5000).fill(0x28), 0x5d]);
    returnsOrFormatError(() => readPickle(deep, 'd.pkl'), 'd.pkl');
  });
});
