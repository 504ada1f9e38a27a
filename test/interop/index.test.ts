/**
 * The interop barrel (the public subset src/index.ts re-exports): exactly these runtime
 * names, each the object of the module that defines it.
 */
import { describe, expect, it } from 'vitest';
import * as interop from '../../src/interop';
import * as checkpoint from '../../src/interop/checkpoint';
import * as exporter from '../../src/interop/export';
import * as loadNetwork from '../../src/interop/loadNetwork';
import * as mapping from '../../src/interop/mapping';
import * as torchFile from '../../src/interop/torchFile';
import * as torchGlobals from '../../src/interop/torchGlobals';
import * as torchWriter from '../../src/interop/torchWriter';
import * as formatError from '../../src/util/formatError';
import * as pickle from '../../src/util/pickle';

const FROM: [Record<string, unknown>, string[]][] = [
  [checkpoint, ['loadTorchCheckpoint', 'toPlain']],
  [torchFile, ['openTorchFile']],
  [mapping, ['canonicalKey', 'mapToCarpKit']],
  [
    loadNetwork,
    ['assignToParams', 'IncompleteCheckpointError', 'inferCarpNetworkSpec', 'loadCarpNetwork'],
  ],
  [exporter, ['saveTorchPth', 'saveTorchSafetensors', 'toTorchStateDict']],
  [torchWriter, ['encodeTorchFile']],
  [pickle, ['PickleError', 'UnsafePickleError']],
  [formatError, ['FormatError', 'IntegrityError']],
  [torchGlobals, ['ALLOWED_GLOBALS']],
];

describe('src/interop/index.ts', () => {
  it('exports exactly the public interop names, each the defining module’s object', () => {
    const barrel = interop as Record<string, unknown>;
    expect(Object.keys(barrel).sort()).toEqual(FROM.flatMap(([, names]) => names).sort());
    for (const [module, names] of FROM) {
      for (const n of names) expect(barrel[n], n).toBe(module[n]);
    }
  });
});
