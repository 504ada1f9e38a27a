import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { ensureRun } from '../../src/train/ensureRun';
import { loadTeacher } from '../../src/interop/loadTeacher';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { pretrain } from '../../src/train/trainer';
import { TINY_RUN_OVERRIDES } from '../helpers/fixtures';
import { initTestBackend } from '../helpers/tensors';

// 2 epochs × 2 micro-steps of 8 images (as trainer.test.ts, smaller).
const OVERRIDES = [
  ...TINY_RUN_OVERRIDES,
  'train.accumulation=1',
  'train.epochs=2',
  'train.logEvery=1',
  'data.limit=16',
];
const config = (extra: string[] = []) => resolveConfig('fmnist-tiny', [...OVERRIDES, ...extra]);
const tmp = () => join(mkdtempSync(join(tmpdir(), 'carp-ensure-')), 'run');

describe('ensureRun', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('trains an absent run, then reuses it (replaying the logged rows), refuses another config', async () => {
    const dir = tmp();
    const seen: number[] = [];
    const a = await ensureRun({
      config: config(),
      runDir: dir,
      progress: false,
      onStep: (m) => seen.push(m.step),
    });
    expect(a.action).toBe('trained');
    expect(a.training?.completed).toBe(true);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(a.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3]);

    const replayed: number[] = [];
    const b = await ensureRun({
      config: config(),
      runDir: dir,
      onStep: (m) => replayed.push(m.step),
    });
    expect(b.action).toBe('reused');
    expect(b.training).toBeNull();
    expect(replayed).toEqual([0, 1, 2, 3]);

    await expect(ensureRun({ config: config(['train.seed=1']), runDir: dir })).rejects.toThrow(
      /key 'train.seed' differs/,
    );

    // A run written before `loss.regWeight` existed trained with λ = 1: it is that run.
    const path = join(dir, 'config.json');
    const { loss: _loss, ...older } = JSON.parse(readFileSync(path, 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(path, JSON.stringify(older));
    expect((await ensureRun({ config: config(), runDir: dir })).action).toBe('reused');
    await expect(ensureRun({ config: config(['loss.regWeight=0']), runDir: dir })).rejects.toThrow(
      /key 'loss.regWeight' differs/,
    );
  });

  it('resumes an interrupted run to completion', async () => {
    const dir = tmp();
    const first = await pretrain({
      config: config(),
      outDir: dir,
      progress: false,
      stopAfterSteps: 2,
    });
    expect(first.completed).toBe(false);
    const r = await ensureRun({ config: config(), runDir: dir, progress: false });
    expect(r.action).toBe('resumed');
    expect(r.training?.completed).toBe(true);
    expect(r.metrics.map((m) => m.step)).toEqual([0, 1, 2, 3]);
  });

  it("randomInitTeacher has the trained teacher's parameters and shapes, other values", async () => {
    const dir = tmp();
    await ensureRun({ config: config(), runDir: dir, progress: false });
    const trained = loadTeacher(dir);
    const random = randomInitTeacher(config());
    try {
      expect(random.spec).toEqual(trained.spec);
      expect(random.params.names()).toEqual(trained.params.names());
      const name = 'backbone.conv1.weight';
      expect(random.params.get(name).shape).toEqual(trained.params.get(name).shape);
      const diff = tf.tidy(() =>
        tf.max(tf.abs(tf.sub(random.params.get(name), trained.params.get(name)))),
      );
      expect((await diff.data())[0]).toBeGreaterThan(0);
      diff.dispose();
      expect(random.checkpointId).toBe(`random-init-seed${config().train.seed + 1}`);
    } finally {
      trained.params.dispose();
      random.params.dispose();
    }
  });
});
