import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/config/resolve';
import { weightsDigest } from '../../../src/eval/context';
import { checkpointTag, recordResult, withDefaults } from '../../../src/eval/protocols/record';
import { readEvalResults } from '../../../src/eval/results';
import { randomInitTeacher } from '../../../src/train/randomTeacher';
import { initTestBackend } from '../../helpers/tensors';

describe('recording a protocol result', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('withDefaults: options over defaults, undefined keeps the default, unknown keys refused by name', () => {
    const d = { k: [10, 20], temperature: 0.07 };
    expect(withDefaults('knn', d, { k: [5], temperature: undefined })).toEqual({
      k: [5],
      temperature: 0.07,
    });
    expect(() => withDefaults('knn', d, { tau: 1 } as never)).toThrow(
      "knn: unknown option 'tau' (valid: k, temperature)",
    );
  });

  it("checkpointTag: '' for a run's latest checkpoint, else the file's stem", () => {
    expect(checkpointTag('/runs/a/checkpoints/latest.safetensors')).toBe('');
    expect(checkpointTag('/w/checkpoint0399.pth')).toBe('checkpoint0399');
    expect(checkpointTag('random-init-seed1')).toBe('random-init-seed1');
  });

  it('writes the settings it was given, the weights digest, the key lists and the variant', async () => {
    const teacher = randomInitTeacher(
      resolveConfig('fmnist-tiny', [
        'model.width=2',
        'model.numPrototypes=16',
        'model.partitionSize=8',
      ]),
      3,
    );
    const runDir = mkdtempSync(join(tmpdir(), 'record-'));
    const ctx = { teacher, runDir, dataset: 'fashion-mnist', limit: 50 };
    const r = await recordResult(ctx, {
      protocol: 'knn',
      defaults: { k: [10] },
      settings: { k: [3], dim: 16 },
      splits: { train: 50, test: 50 },
      metrics: { x: 1 },
      t0: performance.now(),
    });
    expect(r.settings).toEqual({
      k: [3],
      dim: 16,
      subset:
        'a seeded class-stratified subset of 50 images per split (seed 0; multi-label: seeded random)',
    });
    expect(r.weights).toBe(await weightsDigest(teacher));
    expect(r.checkpointKeys).toEqual({ missing: [], unexpected: [] });
    expect(r.partial).toBe(true);
    expect(r.variant).toMatch(/^ck-random-init-seed3\.s[0-9a-f]{8}\.limit50$/);
    expect(readEvalResults(runDir)).toEqual([r]);
    teacher.params.dispose();
  });
});
