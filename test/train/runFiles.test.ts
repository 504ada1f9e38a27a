/**
 * The run directory's files under stress: a stop inside an accumulation group (the open
 * gradient sums are checkpointed), a partly written metrics line, a corrupt run.json
 * (its own error, never masking the training error), the lock, and step checkpoints.
 */
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import { openDataset } from '../../src/data/datasets';
import type { ImageSource } from '../../src/data/source';
import { readCheckpoint } from '../../src/interop/carpCheckpoint';
import { readMetrics } from '../../src/train/metricsLog';
import { RunCheckpoints } from '../../src/train/runCheckpoints';
import { acquireRunLock, RunLockedError } from '../../src/train/runLock';
import { LATEST_CHECKPOINT, pretrain } from '../../src/train/trainer';
import { FormatError } from '../../src/util/formatError';
import { captureWarnings, captureWarningsSync } from '../../src/util/warn';
import { TINY_RUN_OVERRIDES } from '../helpers/fixtures';
import { initTestBackend } from '../helpers/tensors';

// 2 epochs × 4 micro-steps of 8 images, accumulation 2 (as test/train/trainer.test.ts).
const OVERRIDES = [
  ...TINY_RUN_OVERRIDES,
  'train.accumulation=2',
  'train.epochs=2',
  'train.logEvery=1',
  'data.limit=32',
  'train.checkpointMinutes=0',
];
const config = () => resolveConfig('fmnist-tiny', OVERRIDES);
const tmp = () => mkdtempSync(join(tmpdir(), 'carp-runfiles-'));
const row = (step: number) =>
  JSON.stringify({ step, epoch: 0, loss: 1, consistency: 1, entropy: 0 }) + '\n';

describe('mid-accumulation stop and resume', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('a stop after micro-step 4 (inside an accumulation group) saves the open sums; resume equals a straight run', async () => {
    const straight = tmp();
    await pretrain({ config: config(), outDir: straight, progress: false });
    const dir = tmp();
    const stop = new AbortController();
    const first = await pretrain({
      config: config(),
      outDir: dir,
      progress: false,
      stopSignal: stop.signal,
      onStep: (m) => m.step === 4 && stop.abort(),
    });
    expect([first.steps, first.interrupted, first.completed]).toEqual([5, 'abort', false]);
    const ck = readCheckpoint(join(dir, LATEST_CHECKPOINT));
    expect(ck.meta.position).toEqual({ epoch: 1, iteration: 1, globalStep: 5, optimizerSteps: 2 });
    expect(ck.meta.accumulatedSteps).toBe(1);
    expect(ck.meta.data).toEqual({
      count: 32,
      subset: { count: 32, of: 60000, seed: 0, rule: 'class-stratified' },
    });
    expect([...ck.tensors.keys()].filter((k) => k.startsWith('accumulated.')).length).toBe(
      [...ck.tensors.keys()].filter((k) => k.startsWith('optimizer.')).length,
    );
    expect(readdirSync(join(dir, 'checkpoints'))).toContain('step-000000005.safetensors');
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('interrupted');

    await pretrain({ config: config(), outDir: dir, progress: false, resume: true });
    const a = readCheckpoint(join(straight, LATEST_CHECKPOINT)).tensors;
    const b = readCheckpoint(join(dir, LATEST_CHECKPOINT)).tensors;
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, t] of a) expect(b.get(name)!.data, name).toEqual(t.data);
    const strip = (d: string) =>
      readMetrics(join(d, 'metrics.jsonl')).map(({ imagesPerSecond: _i, elapsed: _e, ...r }) => r);
    expect(strip(dir)).toEqual(strip(straight));
  });

  it('resumes over a partly written last metrics line, saying so once', async () => {
    const dir = tmp();
    await pretrain({ config: config(), outDir: dir, progress: false, stopAfterSteps: 2 });
    appendFileSync(join(dir, 'metrics.jsonl'), '{"step":2,"epoch":0,"lo');
    const { warnings } = await captureWarnings(() =>
      pretrain({ config: config(), outDir: dir, progress: false, resume: true }),
    );
    expect(warnings).toEqual([
      `${join(dir, 'metrics.jsonl')}: dropping the partial last line 3 (23 bytes without a newline: a crash while it was written)`,
    ]);
    expect(readMetrics(join(dir, 'metrics.jsonl')).map((m) => m.step)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7,
    ]);
  });
});

describe('resume checks the training images', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('refuses a resume on other data than the checkpoint trained on', async () => {
    const dir = tmp();
    await pretrain({ config: config(), outDir: dir, progress: false, stopAfterSteps: 2 });
    const other = await openDataset('fashion-mnist', 'train', { limit: 32, seed: 5 });
    await expect(
      pretrain({ config: config(), outDir: dir, progress: false, resume: true, source: other }),
    ).rejects.toThrow(
      /cannot resume: the checkpoint trained on \{"count":32,"subset":\{"count":32,"of":60000,"seed":0,.*but the data now are .*"seed":5/,
    );
  });
});

describe('metrics.jsonl', () => {
  it('refuses corruption before the last line, naming the line', () => {
    const path = join(tmp(), 'metrics.jsonl');
    writeFileSync(path, row(0) + '{"step":1,"epo\n' + row(2));
    expect(() => readMetrics(path)).toThrow(FormatError);
    expect(() => readMetrics(path)).toThrow(
      `${path}: line 2 is not a metrics record (expected a JSON object with a numeric step): "{\\"step\\":1,\\"epo"`,
    );
    // A complete last line that is corrupt is corruption too (it has its newline).
    writeFileSync(path, row(0) + 'garbage\n');
    expect(() => readMetrics(path)).toThrow(/line 2 is not a metrics record/);
  });

  it('keeps a last line that is complete JSON but lacks its newline', () => {
    const path = join(tmp(), 'metrics.jsonl');
    writeFileSync(path, row(0) + row(1).trimEnd());
    const { value, warnings } = captureWarningsSync(() => readMetrics(path));
    expect([value.map((m) => m.step), warnings]).toEqual([[0, 1], []]);
  });
});

describe('run.json', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('a corrupt run.json is its own clear error on resume', async () => {
    const dir = tmp();
    await pretrain({ config: config(), outDir: dir, progress: false, stopAfterSteps: 2 });
    writeFileSync(join(dir, 'run.json'), '{"gitSha": "abc", "stat');
    const err = await pretrain({ config: config(), outDir: dir, progress: false, resume: true })
      .then(() => null)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^${join(dir, 'run.json')}: run record is corrupt: not JSON .*; move it aside to continue`,
      ),
    );
    // The corrupt file is left for inspection, not overwritten.
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe('{"gitSha": "abc", "stat');
  });

  it('a training error surfaces even when run.json is corrupt meanwhile', async () => {
    const dir = tmp();
    const base = await openDataset('fashion-mnist', 'train', { limit: 32 });
    let reads = 0;
    const failing: ImageSource = {
      ...base,
      labels: base.labels,
      async readImages(indices, out) {
        if (++reads === 3) {
          writeFileSync(join(dir, 'run.json'), 'not json');
          throw new Error('disk read failed at batch 3');
        }
        return base.readImages(indices, out);
      },
    };
    const { value: err, warnings } = await captureWarnings(() =>
      pretrain({ config: config(), outDir: dir, progress: false, source: failing }).catch(
        (e: unknown) => e,
      ),
    );
    expect((err as Error).message).toBe('disk read failed at batch 3');
    expect(warnings).toEqual([
      expect.stringMatching(
        /run\.json: run record is corrupt: not JSON .*the run's status is not updated\)$/,
      ),
    ]);
  });
});

describe('run lock and step checkpoints', () => {
  it('the lock names its live holder; a dead holder is taken over with a warning', () => {
    const dir = tmp();
    const lock = acquireRunLock(dir);
    expect(() => acquireRunLock(dir)).toThrow(RunLockedError);
    expect(() => acquireRunLock(dir)).toThrow(
      new RegExp(`in use by another pretrain \\(pid ${process.pid} on `),
    );
    lock.release();
    // A pid that cannot exist (above the kernel's pid_max) stands for a process that is gone.
    const dead = { pid: 2 ** 30, host: hostname(), startedAt: 'then' };
    writeFileSync(join(dir, 'run.lock'), JSON.stringify(dead));
    const { value: again, warnings } = captureWarningsSync(() => acquireRunLock(dir));
    expect(warnings).toEqual([
      `${join(dir, 'run.lock')}: stale lock of pid ${2 ** 30} on ${dead.host} (since then; that process is gone), taken over`,
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).pid).toBe(process.pid);
    again.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('step checkpoints: due every N minutes, newest 3 kept, latest a link to the newest', () => {
    const dir = tmp();
    let now = 0;
    const c = new RunCheckpoints(dir, 5, 3, () => now);
    expect(c.due()).toBe(false);
    now = 5 * 60_000 - 1;
    expect(c.due()).toBe(false);
    now += 1;
    expect(c.due()).toBe(true);
    for (const t of [10, 20, 30, 40]) c.saveStep(new TextEncoder().encode(`ck ${t}`), t);
    expect(c.due()).toBe(false); // the clock restarts at every save
    expect(readdirSync(join(dir, 'checkpoints')).sort()).toEqual([
      'latest.safetensors',
      'step-000000020.safetensors',
      'step-000000030.safetensors',
      'step-000000040.safetensors',
    ]);
    expect(readFileSync(join(dir, LATEST_CHECKPOINT), 'utf8')).toBe('ck 40');
    expect(new RunCheckpoints(dir, 0).due()).toBe(false); // 0 = epoch ends only
  });

  it('a run over a killed one removes the temporary checkpoint file it left (its writer is gone)', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'checkpoints'));
    // pid 2^30 is above Linux's pid_max: no such process.
    const left = `.step-000000005.safetensors.tmp-${2 ** 30}-57a3378e`;
    writeFileSync(join(dir, 'checkpoints', left), 'half a checkpoint');
    new RunCheckpoints(dir, 5);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual([]);
  });
});
