/**
 * Fuzzing the binary readers (IDX, CIFAR, safetensors, carp-kit checkpoints): random
 * bytes and mutated valid files end in a FormatError naming the file, or load.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, it } from 'vitest';
import { CarpTrainState } from '../../src/carp/trainStep';
import { networkSpec } from '../../src/config/derived';
import { resolveConfig } from '../../src/config/resolve';
import { parseCifarRecords } from '../../src/data/cifar';
import { encodeIdx, parseIdx, readIdxFile } from '../../src/data/idx';
import { readCheckpoint, saveCheckpoint } from '../../src/interop/carpCheckpoint';
import { createRng } from '../../src/random';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../../src/util/safetensors';
import { captureWarningsSync } from '../../src/util/warn';
import { initTestBackend } from '../helpers/tensors';
import { fuzz, hostileBytes, returnsOrFormatError } from './fuzz';

const dir = mkdtempSync(join(tmpdir(), 'carp-fuzz-'));

describe('fuzz: IDX', () => {
  const images = encodeIdx(
    'uint8',
    [3, 4, 4],
    Array.from({ length: 48 }, (_, i) => i),
  );
  const floats = encodeIdx('float32', [2, 3], [1, -2, 3.5, 4, 5, 6]);
  it('parseIdx: random and mutated bytes', () => {
    fuzz(hostileBytes(images, floats), (b) =>
      returnsOrFormatError(() => parseIdx(b, 'x.idx'), 'x.idx'),
    );
  });
  it('readIdxFile: mutated gzipped files', () => {
    const file = join(dir, 'train-images-idx3-ubyte.gz');
    fuzz(hostileBytes(gzipSync(images), gzipSync(floats)), (b) => {
      writeFileSync(file, b);
      returnsOrFormatError(() => readIdxFile(file), file);
    });
  });
});

describe('fuzz: CIFAR binary records', () => {
  const valid = new Uint8Array(2 * 3073).map((_, i) => (i % 3073 === 0 ? 7 : i & 0xff));
  it('parseCifarRecords', () => {
    fuzz(hostileBytes(valid), (b) =>
      returnsOrFormatError(
        () => parseCifarRecords(b, 'data_batch_1.bin', 1, 0, 10),
        'data_batch_1.bin',
      ),
    );
  });
});

describe('fuzz: safetensors and checkpoints', () => {
  let checkpoint = new Uint8Array();
  beforeAll(async () => {
    await initTestBackend('wasm');
    const config = resolveConfig('fmnist-tiny', [
      'model.width=2',
      'model.numPrototypes=16',
      'model.partitionSize=4',
      'model.hiddenDim=8',
      'model.bottleneckDim=4',
    ]);
    const state = CarpTrainState.create({
      spec: networkSpec(config.model),
      partitionSize: 4,
      rng: createRng(0),
    });
    const path = join(dir, 'valid.safetensors');
    await saveCheckpoint(path, {
      ...state,
      position: { epoch: 0, iteration: 1, globalStep: 1, optimizerSteps: 0 },
      rngs: { partition: state.partitionRng.getState() },
      config,
    });
    state.dispose();
    checkpoint = new Uint8Array(readFileSync(path));
  });

  it('decodeSafetensors: random and mutated buffers', () => {
    const small = encodeSafetensors(
      new Map<string, NamedArray>([
        ['a', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
        ['b', { dtype: 'I64', shape: [1], data: new BigInt64Array([5n]) }],
      ]),
      { note: 'x' },
    );
    fuzz(hostileBytes(small), (b) =>
      returnsOrFormatError(
        () => decodeSafetensors(Buffer.from(b), 'x.safetensors'),
        'x.safetensors',
      ),
    );
  });

  it('readCheckpoint: mutated real checkpoints (the header is where parsing can go wrong)', () => {
    const file = join(dir, 'latest.safetensors');
    const header = checkpoint.subarray(0, 8 + Number(Buffer.from(checkpoint).readBigUInt64LE(0)));
    fuzz(hostileBytes(checkpoint, header), (b) => {
      writeFileSync(file, b);
      captureWarningsSync(() => returnsOrFormatError(() => readCheckpoint(file), file));
    });
  });
});
