import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runKnn } from '../../src/eval/protocols/knn';
import { loadTeacher } from '../../src/interop/loadTeacher';
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
