import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { readCheckpoint } from '../../src/interop/carpCheckpoint';
import { readMetrics } from '../../src/train/metricsLog';
import { epochCheckpointName, LATEST_CHECKPOINT, pretrain } from '../../src/train/trainer';
import { TINY_RUN_OVERRIDES } from '../helpers/fixtures';
import { initTestBackend } from '../helpers/tensors';

// 2 epochs × 4 micro-steps of 8 images, accumulation 2 → 4 optimiser steps.
const OVERRIDES = [
  ...TINY_RUN_OVERRIDES,
  'train.accumulation=2',
  'train.epochs=2',
  'train.logEvery=1',
  'data.limit=32',
];
const config = () => resolveConfig('fmnist-tiny', OVERRIDES);
const tmp = () => mkdtempSync(join(tmpdir(), 'carp-run-'));

function tensorsOf(path: string) {
  return readCheckpoint(path).tensors;
}

describe('pretrain (trainer)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('writes the run directory: config, run record, metrics, checkpoints; no tensor leak', async () => {
    const dir = tmp();
    const before = tf.memory().numTensors;
    const r = await pretrain({ config: config(), outDir: dir, progress: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.completed).toBe(true);
    expect(r.steps).toBe(8);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config());
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(run.status).toBe('completed');
    expect(run.backend).toBe('wasm');
    expect(run.data).toEqual({
      name: 'fashion-mnist',
      split: 'train',
      count: 32,
      subset: { count: 32, of: 60000, seed: 0, rule: 'class-stratified' },
      preprocessing: null, // Debian's raw Fashion-MNIST pixels
    });
    const metrics = readMetrics(join(dir, 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.loss).toBeCloseTo(m.consistency + m.entropy, 5);
    }
    // lr schedule: cosine from lrRef·A·B/256 to minLr over 8 micro-steps (§5.3).
    const base = (config().optim.lrRef * 16) / 256;
    expect(metrics[0].lr).toBeCloseTo(base, 10);
    expect(metrics[4].lr).toBeCloseTo(
      config().optim.minLr + 0.5 * (base - config().optim.minLr),
      10,
    );
    expect(metrics[0].momentum).toBeCloseTo(0.99, 12);
    expect(existsSync(join(dir, LATEST_CHECKPOINT))).toBe(true);
    expect(existsSync(join(dir, epochCheckpointName(0)))).toBe(true);
    expect(existsSync(join(dir, epochCheckpointName(1)))).toBe(true);
    const ck = readCheckpoint(join(dir, LATEST_CHECKPOINT));
    expect(ck.meta.position).toEqual({ epoch: 2, iteration: 0, globalStep: 8, optimizerSteps: 4 });
    expect(ck.optimizerIterations).toBe(4);
  });

  it('resumes exactly: N steps straight == N/2 + resume + N/2 (same backend)', async () => {
    const straight = tmp();
    await pretrain({ config: config(), outDir: straight, progress: false });
    const split = tmp();
    const half = await pretrain({
      config: config(),
      outDir: split,
      progress: false,
      stopAfterSteps: 3,
    });
    // Rounded up to the optimiser step that ends micro-step 3 (accumulation 2).
    expect(half.steps).toBe(4);
    expect(half.completed).toBe(false);
    const rest = await pretrain({ config: config(), outDir: split, progress: false, resume: true });
    expect(rest.steps).toBe(8);
    const a = tensorsOf(join(straight, LATEST_CHECKPOINT));
    const b = tensorsOf(join(split, LATEST_CHECKPOINT));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) {
      expect(Array.from(b.get(name)!.data as Float32Array), name).toEqual(
        Array.from(t.data as Float32Array),
      );
    }
    // The metrics log continues where the checkpoint stopped, without duplicates.
    expect(readMetrics(join(split, 'metrics.jsonl')).map((m) => m.step)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
    expect(JSON.parse(readFileSync(join(split, 'run.json'), 'utf8')).resumes).toBe(1);
  });

  it("refuses an out dir holding another run's checkpoint, and a resume with a changed config", async () => {
    const dir = tmp();
    await pretrain({ config: config(), outDir: dir, progress: false, stopAfterSteps: 2 });
    await expect(pretrain({ config: config(), outDir: dir, progress: false })).rejects.toThrow(
      /already holds a run's checkpoint .*pass --resume/,
    );
    const changed = resolveConfig('fmnist-tiny', [...OVERRIDES, 'optim.lrRef=0.1']);
    await expect(
      pretrain({ config: changed, outDir: dir, progress: false, resume: true }),
    ).rejects.toThrow(/config key 'optim.lrRef' is .* in the checkpoint but 0.1 now/);
    await expect(
      pretrain({ config: config(), outDir: tmp(), progress: false, resume: true }),
    ).rejects.toThrow(/--resume: no checkpoint at/);
  });
});
