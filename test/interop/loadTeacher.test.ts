import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKnn } from '../../src/eval/protocols/knn';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { IncompleteCheckpointError } from '../../src/interop/loadNetwork';
import { loadTeacher } from '../../src/interop/loadTeacher';
import { encodeTorchFile } from '../../src/interop/torchWriter';
import type { NamedArray } from '../../src/util/safetensors';
import { captureWarningsSync } from '../../src/util/warn';
import { initTestBackend } from '../helpers/tensors';

const FIXTURE = join(__dirname, '..', 'fixtures', 'interop', 'tiny-carp.pth');

describe('loadTeacher', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('loads the teacher of an official-layout .pth (training dictionary) and evaluates it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pth-'));
    const path = join(dir, 'checkpoint0399.pth');
    copyFileSync(FIXTURE, path);
    const teacher = loadTeacher(path);
    try {
      expect(teacher.config).toBeNull();
      expect(teacher.spec.backbone).toMatchObject({
        block: 'basic',
        width: 4,
        cifarStem: true,
        inChannels: 3,
      });
      expect(teacher.spec.head?.numPrototypes).toBe(16);
      expect(teacher.checkpointId).toBe(`${path}#teacher`);
      // Grey Fashion-MNIST images are replicated to RGB and T-eval'd (256 → 224) for a PyTorch file.
      const r = await runKnn(
        { teacher, runDir: dir, dataset: 'fashion-mnist', limit: 8 },
        { k: [3] },
      );
      expect(r.checkpoint).toBe(`${path}#teacher`);
      expect(r.splits).toEqual({ train: 8, test: 8 });
    } finally {
      teacher.params.dispose();
    }
  });

  it('names what is wrong with a bad path', () => {
    expect(() => loadTeacher('/nonexistent/run')).toThrow(
      /checkpoint \/nonexistent\/run does not exist/,
    );
    const empty = mkdtempSync(join(tmpdir(), 'empty-'));
    expect(() => loadTeacher(empty)).toThrow(
      /is a directory without checkpoints\/latest\.safetensors/,
    );
  });
});

/** The fixture's teacher as a training dictionary, minus `drop`, plus `add` (a real .pth). */
function editedPth(drop: string[], add: Record<string, NamedArray> = {}): string {
  const { tensors } = loadTorchCheckpoint(FIXTURE, { entry: 'teacher' });
  const sd = new Map<string, NamedArray>();
  for (const [k, t] of tensors) {
    if (drop.includes(k)) continue;
    const dtype = t.dtype === 'int64' ? 'I64' : 'F32';
    sd.set(k, { dtype, shape: t.shape, data: t.data as NamedArray['data'] });
  }
  for (const [k, a] of Object.entries(add)) sd.set(k, a);
  for (const k of drop) if (!tensors.has(k)) throw new Error(`fixture has no key ${k}`);
  const path = join(mkdtempSync(join(tmpdir(), 'pth-')), 'checkpoint.pth');
  writeFileSync(path, encodeTorchFile({ teacher: sd, epoch: 3 }));
  return path;
}

describe('loadTeacher: keys missing from an official .pth', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('refuses an incomplete backbone, listing every missing key', () => {
    const path = editedPth([
      'module.backbone.layer2.0.conv1.weight',
      'module.backbone.layer1.1.bn2.running_var',
    ]);
    let err: unknown;
    try {
      loadTeacher(path).params.dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IncompleteCheckpointError);
    expect((err as IncompleteCheckpointError).missing).toEqual([
      'backbone.layer1.1.bn2.running_var',
      'backbone.layer2.0.conv1.weight',
    ]);
    expect((err as Error).message).toBe(
      `${path}: the backbone is incomplete: 2 key(s) missing, which would stay at random values: ` +
        'backbone.layer1.1.bn2.running_var, backbone.layer2.0.conv1.weight',
    );
  });

  it('loads with one warning line per list when only non-essential keys are missing, and exposes both lists', () => {
    const path = editedPth(
      ['module.head.last_layer.weight_g', 'module.backbone.bn1.num_batches_tracked'],
      { 'module.fc.weight': { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } },
    );
    const { value: teacher, warnings } = captureWarningsSync(() => loadTeacher(path));
    try {
      expect(teacher.missing).toEqual([
        'backbone.bn1.num_batches_tracked',
        'head.last_layer.weight_g',
      ]);
      expect(teacher.unexpected).toEqual(['module.fc.weight']);
      expect(warnings).toEqual([
        `${path}: 2 non-essential key(s) missing (left as initialised): ` +
          'backbone.bn1.num_batches_tracked, head.last_layer.weight_g',
        `${path}: 1 key(s) not used by the network: module.fc.weight`,
      ]);
    } finally {
      teacher.params.dispose();
    }
    // A protocol that uses the head needs it whole.
    expect(() => loadTeacher(path, { need: 'network' })).toThrow(
      /the network is incomplete: 1 key\(s\) missing, .*: head\.last_layer\.weight_g$/,
    );
  });

  it('a complete file loads silently with empty lists', () => {
    const { value: teacher, warnings } = captureWarningsSync(() => loadTeacher(FIXTURE));
    teacher.params.dispose();
    expect([teacher.missing, teacher.unexpected, warnings]).toEqual([[], [], []]);
  });
});
