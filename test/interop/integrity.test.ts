/**
 * Corruption after writing is caught on load: carp-kit checkpoints carry the sha256 of
 * their tensor data (verified by readCheckpoint / loadTeacher), and every zip entry of a
 * `.pth` is checked against its CRC-32; a deflated entry longer than its header says is a
 * FormatError, not a silent truncation.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { CarpTrainState } from '../../src/carp/trainStep';
import { resolveConfig } from '../../src/config/resolve';
import { networkSpec } from '../../src/config/derived';
import { readCheckpoint, saveCheckpoint } from '../../src/interop/carpCheckpoint';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { loadTeacher } from '../../src/interop/loadTeacher';
import { ZipArchive } from '../../src/interop/zipArchive';
import { createRng } from '../../src/random';
import { FormatError, IntegrityError } from '../../src/util/formatError';
import { captureWarningsSync } from '../../src/util/warn';
import { PROJECT_ROOT } from '../helpers/golden';
import { initTestBackend } from '../helpers/tensors';

const TINY_PTH = join(PROJECT_ROOT, 'test', 'fixtures', 'interop', 'tiny-carp.pth');
const tmp = () => mkdtempSync(join(tmpdir(), 'carp-integrity-'));

/** A real training checkpoint of the tiny preset (fresh state, position 0). */
async function writeCheckpoint(path: string): Promise<void> {
  const config = resolveConfig('fmnist-tiny', ['model.width=4', 'model.numPrototypes=32']);
  const state = CarpTrainState.create({
    spec: networkSpec(config.model),
    partitionSize: config.model.partitionSize,
    rng: createRng(0),
  });
  try {
    await saveCheckpoint(path, {
      student: state.student,
      teacher: state.teacher,
      optimizer: state.optimizer,
      position: { epoch: 0, iteration: 3, globalStep: 3, optimizerSteps: 1 },
      rngs: { partition: state.partitionRng.getState() },
      config,
    });
  } finally {
    state.dispose();
  }
}

function dataStartOf(buf: Buffer): number {
  return 8 + Number(buf.readBigUInt64LE(0));
}

describe('checkpoint digest', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('a checkpoint with 100 zeroed bytes of tensor data is refused, naming the file', async () => {
    const path = join(tmp(), 'latest.safetensors');
    await writeCheckpoint(path);
    expect(readCheckpoint(path).meta.position.globalStep).toBe(3); // intact: loads
    const buf = readFileSync(path);
    buf.fill(0, dataStartOf(buf) + 400, dataStartOf(buf) + 500);
    writeFileSync(path, buf);
    expect(() => readCheckpoint(path)).toThrow(IntegrityError);
    expect(() => readCheckpoint(path)).toThrow(
      new RegExp(`^${path}: tensor data .* does not match its sha256 digest`),
    );
    // Evaluation loads through the same check.
    expect(() => loadTeacher(path)).toThrow(IntegrityError);
  });

  it('one flipped bit in the last tensor byte is caught too', async () => {
    const path = join(tmp(), 'ck.safetensors');
    await writeCheckpoint(path);
    const buf = readFileSync(path);
    buf[buf.length - 1] ^= 1;
    writeFileSync(path, buf);
    expect(() => readCheckpoint(path)).toThrow(IntegrityError);
  });

  it('a checkpoint without a digest (older writer) loads with exactly one warning', async () => {
    const path = join(tmp(), 'old.safetensors');
    await writeCheckpoint(path);
    const buf = readFileSync(path);
    const start = dataStartOf(buf);
    const header = JSON.parse(buf.subarray(8, start).toString('utf8'));
    delete header.__metadata__.data_sha256;
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(path, Buffer.concat([len, Buffer.from(json), buf.subarray(start)]));
    const { value, warnings } = captureWarningsSync(() => readCheckpoint(path));
    expect(value.meta.position.globalStep).toBe(3);
    expect(warnings).toEqual([
      `${path} has no data digest (written by an older carp-kit): its tensor data cannot be verified`,
    ]);
  });
});

describe('.pth zip entries: CRC-32 and declared sizes', () => {
  it('a flipped byte inside a stored tensor storage is an IntegrityError naming file and entry', () => {
    const path = join(tmp(), 'checkpoint.pth');
    copyFileSync(TINY_PTH, path);
    const zip = ZipArchive.open(path);
    const entry = [...zip.entries.values()].find((e) => /\/data\/\d+$/.test(e.name))!;
    zip.close();
    const buf = readFileSync(path);
    // The entry's data starts after its local header (30 bytes + name + extra).
    const at =
      entry.localHeaderOffset +
      30 +
      buf.readUInt16LE(entry.localHeaderOffset + 26) +
      buf.readUInt16LE(entry.localHeaderOffset + 28);
    buf[at + 1] ^= 0xff;
    writeFileSync(path, buf);
    expect(() => loadTorchCheckpoint(path, { entry: 'student' })).toThrow(IntegrityError);
    expect(() => loadTorchCheckpoint(path, { entry: 'student' })).toThrow(
      new RegExp(`^${path}: zip entry '${entry.name}': CRC-32 0x[0-9a-f]{8} .* does not match`),
    );
  });

  it('zeroed bytes in the pickle are caught before it is even parsed', () => {
    const path = join(tmp(), 'checkpoint.pth');
    copyFileSync(TINY_PTH, path);
    const zip = ZipArchive.open(path);
    const pkl = zip.entries.get([...zip.entries.keys()].find((n) => n.endsWith('data.pkl'))!)!;
    zip.close();
    const buf = readFileSync(path);
    const at = pkl.localHeaderOffset + 30 + buf.readUInt16LE(pkl.localHeaderOffset + 26);
    buf.fill(0, at + buf.readUInt16LE(pkl.localHeaderOffset + 28) + 20, at + 60);
    writeFileSync(path, buf);
    expect(() => loadTorchCheckpoint(path)).toThrow(IntegrityError);
  });

  it('a re-zipped (deflated) .pth loads; one whose entry inflates past its declared size is refused', () => {
    const files = unzipSync(new Uint8Array(readFileSync(TINY_PTH)));
    const deflated = zipSync(files, { level: 6 });
    expect(loadTorchCheckpoint(deflated).tensors.size).toBeGreaterThan(10);
    // Shrink the uncompressed size of one deflated storage in its central directory record.
    const buf = Buffer.from(deflated);
    const name = Object.keys(files).find((n) => /\/data\/\d+$/.test(n) && files[n].length > 64)!;
    const cd = buf.indexOf(Buffer.concat([Buffer.from([0x50, 0x4b, 0x01, 0x02])]));
    let p = cd;
    for (;;) {
      const nameLen = buf.readUInt16LE(p + 28);
      if (buf.subarray(p + 46, p + 46 + nameLen).toString() === name) break;
      p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
    }
    expect(buf.readUInt16LE(p + 10)).toBe(8); // deflated
    buf.writeUInt32LE(files[name].length - 16, p + 24);
    const zip = new ZipArchive(
      {
        size: buf.length,
        read: (pos, len) => buf.subarray(pos, pos + len),
        close: () => {},
      },
      'rezipped.pth',
    );
    let err: unknown;
    try {
      zip.read(name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toBe(
      `rezipped.pth: zip entry '${name}': deflated data inflates to more than the ` +
        `${files[name].length - 16} bytes its header declares`,
    );
  });
});
