/**
 * The set-up half of a pretraining run: which config keys a resume may change, what a new
 * run is built from (loader, schedules, record) and what a fresh start writes; the tensors
 * of the state are released by disposeRun.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { comparableConfig, createRun, disposeRun, startFresh } from '../../src/train/runSetup';
import { TINY_RUN_OVERRIDES } from '../helpers/fixtures';
import { initTestBackend } from '../helpers/tensors';

const dir = mkdtempSync(join(tmpdir(), 'carp-runsetup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('comparableConfig', () => {
  it('drops train.checkpointMinutes and reads a config without `loss` as regWeight 1', () => {
    expect(
      comparableConfig({ loss: { regWeight: 2 }, train: { checkpointMinutes: 5, epochs: 3 } }),
    ).toEqual({ loss: { regWeight: 2 }, train: { epochs: 3 } });
    expect(comparableConfig({ train: { checkpointMinutes: 1 } })).toEqual({
      train: {},
      loss: { regWeight: 1 },
    });
    expect(comparableConfig({ loss: { regWeight: 2 } })).toEqual({ loss: { regWeight: 2 } });
    expect(comparableConfig(null)).toBeNull();
    expect(comparableConfig(3)).toBe(3);
  });
});

describe('createRun / startFresh / disposeRun', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('builds 4 micro-steps per epoch from 32 images in batches of 8, and writes a fresh run', async () => {
    const config = resolveConfig('fmnist-tiny', [
      ...TINY_RUN_OVERRIDES,
      'train.epochs=2',
      'data.limit=32',
    ]);
    const before = tf.memory().numTensors;
    const run = await createRun({ config, outDir: dir });
    try {
      expect(run.iters).toBe(4);
      expect(run.totalSteps).toBe(8);
      expect(run.lrSchedule.length).toBe(8);
      expect(run.momentumSchedule.length).toBe(8);
      expect(run.momentumSchedule[0]).toBe(config.teacher.momentumStart);
      expect(run.position).toEqual({ epoch: 0, iteration: 0, globalStep: 0, optimizerSteps: 0 });
      expect(run.ownsSource).toBe(true);
      expect(run.metricsPath).toBe(join(dir, 'metrics.jsonl'));
      expect(run.record).toMatchObject({
        backend: 'wasm',
        seed: config.train.seed,
        preset: 'fmnist-tiny',
        status: 'running',
        resumes: 0,
        data: {
          name: 'fashion-mnist',
          split: 'train',
          count: 32,
          subset: { count: 32, of: 60000, seed: 0, rule: 'class-stratified' },
          preprocessing: null,
        },
      });
      startFresh(run);
      expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(config);
      expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
      expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toEqual(run.record);
    } finally {
      await disposeRun(run);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
