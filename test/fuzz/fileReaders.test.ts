/**
 * Fuzzing the readers of structured files: prepared-dataset manifests (random bytes,
 * mutated text, and well-formed JSON with fields of any type), image files (PNG, JPEG,
 * PPM), the revisited ground truth (.json, .pkl) and MAT files. Each case loads or ends in
 * a FormatError naming the file. Config JSON (src/config/resolve.ts) must end in its own
 * typed ConfigError.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMat } from '../../data-scripts/lib/mat';
import { resolveConfig } from '../../src/config/resolve';
import { ConfigError } from '../../src/config/validate';
import { decodeImageFile, encodeImageFile, encodePnm } from '../../src/data/imageFile';
import { writePrepared } from '../../src/data/prepared';
import { openPrepared, verifyPrepared } from '../../src/data/preparedRead';
import { readRevisitedGroundTruth } from '../../src/data/revisited';
import { PROJECT_ROOT } from '../helpers/golden';
import {
  fuzz,
  fuzzAsync,
  hostileBytes,
  mutated,
  RUNS,
  SEED,
  returnsOrFormatError,
  returnsOrFormatErrorAsync,
} from './fuzz';

const dir = mkdtempSync(join(tmpdir(), 'carp-fuzz-files-'));
const text = (s: string) => new Uint8Array(Buffer.from(s));

/** A JSON document with one field replaced by an arbitrary JSON value (at any depth). */
function withArbitraryField(doc: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, p: string[]) => {
    paths.push(p);
    if (v && typeof v === 'object')
      for (const k of Object.keys(v)) walk((v as never)[k], [...p, k]);
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths), fc.jsonValue()).map(([p, value]) => {
    if (p.length === 0) return value;
    const copy = structuredClone(doc) as Record<string, unknown>;
    let o = copy;
    for (const k of p.slice(0, -1)) o = o[k] as Record<string, unknown>;
    o[p[p.length - 1]] = value;
    return copy;
  });
}

describe('fuzz: prepared-dataset manifests', () => {
  const ds = join(dir, 'prepared');
  writePrepared(ds, {
    name: 'tiny',
    split: 'train',
    count: 3,
    height: 2,
    width: 2,
    channels: 1,
    images: new Uint8Array(12).map((_, i) => i),
    labels: new Int32Array([0, 1, 0]),
    classes: ['a', 'b'],
    names: ['x', 'y', 'z'],
  });
  const manifest = join(ds, 'manifest.json');
  const valid = readFileSync(manifest, 'utf8');
  const open = async () => {
    verifyPrepared(ds);
    await (await openPrepared(ds)).close();
  };

  it('mutated manifest bytes', async () => {
    await fuzzAsync(hostileBytes(text(valid)), async (b) => {
      writeFileSync(manifest, b);
      // The manifest is named, or the data file it describes (sizes, hashes).
      await returnsOrFormatErrorAsync(open, ds);
    });
  });

  it('well-formed JSON with any field of any type', async () => {
    await fuzzAsync(withArbitraryField(JSON.parse(valid)), async (m) => {
      writeFileSync(manifest, JSON.stringify(m));
      try {
        await open();
      } catch (e) {
        // The manifest is named, or the data file it describes (sizes, hashes).
        expect((e as Error).name, (e as Error).message).toMatch(/FormatError|IntegrityError/);
        expect((e as Error).message).toContain(ds);
      }
    });
    writeFileSync(manifest, valid);
  });
});

describe('fuzz: image files', () => {
  const img = {
    data: new Uint8Array(4 * 5 * 3).map((_, i) => (i * 37) & 0xff),
    height: 4,
    width: 5,
    channels: 3,
  };

  it('mutated PNG, JPEG and PPM files', async () => {
    await encodeImageFile(join(dir, 'a.png'), img);
    await encodeImageFile(join(dir, 'a.jpg'), img);
    const png = new Uint8Array(readFileSync(join(dir, 'a.png')));
    const jpg = new Uint8Array(readFileSync(join(dir, 'a.jpg')));
    const ppm = new Uint8Array(encodePnm(img));
    const file = join(dir, 'fuzzed.img');
    await fuzzAsync(hostileBytes(png, jpg, ppm), async (b) => {
      writeFileSync(file, b);
      await returnsOrFormatErrorAsync(() => decodeImageFile(file), file);
    });
  });
});

describe('fuzz: revisited ground truth', () => {
  const pickles = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'test', 'data', 'fixtures', 'pickles.json'), 'utf8'),
  ) as { gnd: unknown; gndPickles: Record<string, string> };

  it('.json: mutated text and any field of any type', () => {
    const file = join(dir, 'gnd_roxford5k.json');
    const valid = JSON.stringify(pickles.gnd);
    fuzz(
      fc.oneof(
        hostileBytes(text(valid)),
        withArbitraryField(pickles.gnd).map((v) => text(JSON.stringify(v))),
      ),
      (b) => {
        writeFileSync(file, b);
        returnsOrFormatError(() => readRevisitedGroundTruth(file), file);
      },
    );
  });

  it('.pkl: mutated pickles', () => {
    const file = join(dir, 'gnd_roxford5k.pkl');
    const valid = Object.values(pickles.gndPickles).map(
      (b) => new Uint8Array(Buffer.from(b, 'base64')),
    );
    fuzz(hostileBytes(...valid), (b) => {
      writeFileSync(file, b);
      returnsOrFormatError(() => readRevisitedGroundTruth(file), file);
    });
  });
});

describe('fuzz: MAT files', () => {
  const fx = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'test', 'data', 'fixtures', 'mat.json'), 'utf8'),
  ) as Record<string, string>;
  it('mutated level-5 MAT files (plain and compressed elements, structs, cells)', () => {
    const valid = Object.values(fx).map((b) => new Uint8Array(Buffer.from(b, 'base64')));
    fuzz(hostileBytes(...valid), (b) =>
      returnsOrFormatError(() => parseMat(Buffer.from(b), 'imagelabels.mat'), 'imagelabels.mat'),
    );
  });
});

describe('fuzz: config JSON', () => {
  it('resolveConfig: a config with any field of any type ends in a ConfigError or resolves', () => {
    const valid = JSON.parse(JSON.stringify(resolveConfig('fmnist-tiny')));
    fc.assert(
      fc.property(withArbitraryField(valid), (c) => {
        try {
          resolveConfig(c as Record<string, unknown>);
        } catch (e) {
          if (!(e instanceof ConfigError)) {
            throw new Error(
              `expected a ConfigError, got ${(e as Error).name}: ${(e as Error).message}`,
            );
          }
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  // Found by this fuzz test (seed 2): the offending value was formatted with String(v),
  // which throws for an object whose toString is not a function.
  it('resolveConfig: a value {"toString": {}} gives a ConfigError', () => {
    const c = JSON.parse(JSON.stringify(resolveConfig('fmnist-tiny')));
    c.model.width = { toString: {} };
    expect(() => resolveConfig(c)).toThrow(ConfigError);
  });

  it('resolveConfig: mutated JSON text that still parses', () => {
    const valid = JSON.stringify(resolveConfig('fmnist-tiny'));
    fuzz(mutated(text(valid)), (b) => {
      let obj: unknown;
      try {
        obj = JSON.parse(Buffer.from(b).toString('utf8'));
      } catch {
        return; // not JSON: the CLI reports that itself, naming the file
      }
      try {
        resolveConfig(obj as Record<string, unknown>);
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          throw new Error(
            `expected a ConfigError, got ${(e as Error).name}: ${(e as Error).message}`,
          );
        }
      }
    });
  });
});
