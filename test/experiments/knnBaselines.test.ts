import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import { runPixelKnn } from '../../src/eval/protocols/knn';
import { readEvalResults } from '../../src/eval/results';
import { knnBaselines } from '../../src/experiments/knnBaselines';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { initTestBackend } from '../helpers/tensors';

describe('knnBaselines', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('the teacher, the BN-re-estimated random init and raw pixels on the same protocol', async () => {
    const config = resolveConfig('fmnist-tiny', ['model.width=4']);
    // A stand-in for a trained teacher (another seed): the wiring is what is tested here.
    const teacher = randomInitTeacher(config, 7);
    const runDir = mkdtempSync(join(tmpdir(), 'carp-baselines-'));
    try {
      const r = await knnBaselines({ teacher, config, runDir, limit: 200, k: [1, 20] });
      expect(r.rows.map((x) => x.features)).toEqual([
        'CARP teacher',
        'random init (BN re-estimated)',
        'raw pixels',
      ]);
      expect(r.splits).toEqual({ train: 200, test: 200 });
      expect(r.k).toEqual([1, 20]);
      const pixels = await runPixelKnn({ dataset: 'fashion-mnist', limit: 200 }, { k: [1, 20] });
      expect(r.rows[2].metrics).toEqual(pixels.metrics);
      expect(r.rows[2].predictions['20']).toEqual(pixels.predictions['20']);
      // Raw pixels on Fashion-MNIST are a strong baseline, far above chance.
      expect(r.rows[2].metrics['20'].top1).toBeGreaterThan(0.6);
      for (const row of r.rows) expect(row.predictions['20']).toHaveLength(200);

      const [own] = readEvalResults(runDir);
      expect(own.checkpoint).toBe('random-init-seed7');
      expect(own.metrics).toEqual(r.rows[0].metrics);
      const [base] = readEvalResults(join(runDir, 'baseline-random-init'));
      // The baseline is seed train.seed + 1 with BN statistics from 200 training images.
      expect(base.checkpoint).toBe('random-init-seed1-bn-fashion-mnist-train-200');
      expect(base.metrics).toEqual(r.rows[1].metrics);
      expect(base.partial).toBe(true);
    } finally {
      teacher.params.dispose();
    }
  });
});
