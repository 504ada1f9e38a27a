import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { evalSplits } from '../../src/data/datasets';
import { normalizeImages } from '../../src/data/normalize';
import { evalTransform, runKnn } from '../../src/eval/protocols/knn';
import { readEvalResults } from '../../src/eval/results';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const tinyConfig = () =>
  resolveConfig('fmnist-tiny', [
    'model.width=4',
    'model.numPrototypes=16',
    'model.partitionSize=8',
  ]);

describe('protocol runners', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('evalTransform: native-size images are only normalised; larger ones get T-eval to the crop size', async () => {
    const teacher = randomInitTeacher(tinyConfig());
    const t = evalTransform(teacher);
    const x = tf.fill([2, 28, 28, 1], 200) as Tensor4D;
    const y = await expectNoLeak(async () => {
      const out = t.fn(x);
      const data = await out.data();
      expect(out.shape).toEqual([2, 28, 28, 1]);
      out.dispose();
      return data;
    });
    const ref = normalizeImages(x, [0.286], [0.353]);
    expectClose(y, await ref.data(), { atol: 1e-6 });
    const big = tf.fill([1, 64, 48, 1], 200) as Tensor4D;
    const out = t.fn(big);
    expect(out.shape).toEqual([1, 28, 28, 1]); // resize shorter side to 32, centre crop 28
    expectClose(await out.data(), (await ref.data()).subarray(0, 28 * 28), { atol: 1e-4 }); // constant stays constant
    expect(t.name).toBe('teval32-28-bicubic-0.286-0.353-c1');
    tf.dispose([x, ref, big, out]);
    teacher.params.dispose();
  });

  it('evalTransform: PyTorch checkpoints (no config) use the paper T-eval 256 → 224 with ImageNet statistics', () => {
    const teacher = { ...randomInitTeacher(tinyConfig()), config: null };
    const t = evalTransform(teacher, { filter: 'bilinear' });
    expect(t.name).toBe('teval256-224-bilinear-0.485_0.456_0.406-0.229_0.224_0.225-c1');
    const out = t.fn(tf.zeros([1, 300, 260, 1]) as Tensor4D);
    expect(out.shape).toEqual([1, 224, 224, 1]);
    out.dispose();
    teacher.params.dispose();
  });

  it('runKnn writes a typed result and reuses cached features', async () => {
    const teacher = randomInitTeacher(tinyConfig());
    const runDir = mkdtempSync(join(tmpdir(), 'proto-'));
    // 256 images: with 64, top-1 of these width-4 random features was 0.06 on cpu and 0.13
    // on pure wasm (one image is 1.6 points; chance is 0.1), so "beats chance" was noise.
    const ctx = { teacher, runDir, dataset: 'fashion-mnist', limit: 256 };
    const r = await runKnn(ctx, { k: [5, 500] });
    expect(r.protocol).toBe('knn');
    expect(r.proxy).toBe(false);
    expect(r.splits).toEqual({ train: 256, test: 256 });
    const m = r.metrics as Record<string, { top1: number; top5: number }>;
    expect(m['5'].top1).toBeGreaterThan(0.12); // random conv features beat chance (0.1): 0.14–0.15 measured
    expect(m['500'].top5).toBeGreaterThanOrEqual(m['500'].top1);
    expect(existsSync(join(runDir, 'eval', 'knn-fashion-mnist.json'))).toBe(true);
    expect(readEvalResults(runDir).map((e) => e.protocol)).toEqual(['knn']);
    const again = await runKnn(ctx, { k: [5, 500] });
    expect(again.metrics).toEqual(r.metrics);
    teacher.params.dispose();
  });

  it('evalSplits: trainval/val where prepared, train/test otherwise (spec §9.2 table)', () => {
    const root = mkdtempSync(join(tmpdir(), 'splits-'));
    const saved = process.env.CARP_DATA_DIR;
    process.env.CARP_DATA_DIR = root;
    try {
      for (const [ds, split] of [
        ['imagenet', 'train'],
        ['imagenet', 'val'],
        ['pets', 'trainval'],
        ['pets', 'test'],
      ]) {
        mkdirSync(join(root, ds, split), { recursive: true });
        writeFileSync(join(root, ds, split, 'manifest.json'), '{}');
      }
      expect(evalSplits('imagenet')).toEqual({ bank: 'train', query: 'val' });
      expect(evalSplits('pets')).toEqual({ bank: 'trainval', query: 'test' });
      expect(evalSplits('fashion-mnist')).toEqual({ bank: 'train', query: 'test' });
    } finally {
      if (saved === undefined) delete process.env.CARP_DATA_DIR;
      else process.env.CARP_DATA_DIR = saved;
    }
  });
});
