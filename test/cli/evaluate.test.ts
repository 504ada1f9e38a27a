import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { CHECKPOINT_FORMAT } from '../../src/interop/carpCheckpoint';
import { saveSafetensors, type NamedArray } from '../../src/util/safetensors';
import { LATEST_CHECKPOINT } from '../../src/train/trainer';
import { initTestBackend } from '../helpers/tensors';
import { resolveConfig } from '../../src/config/resolve';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import {
  TINY_RGB_OVERRIDES,
  tempDirs,
  tinyRgbConfig,
  writeVocFixture,
} from '../eval/protocols/fixtures';

const saved = process.env.CARP_DATA_DIR;

/** A run directory holding a checkpoint of the tiny RGB teacher (random init). */
async function writeRun(runDir: string, config = tinyRgbConfig()): Promise<void> {
  const teacher = randomInitTeacher(config);
  const tensors = new Map<string, NamedArray>();
  for (const name of teacher.params.names()) {
    const t = teacher.params.get(name);
    const data = await t.data();
    tensors.set(`teacher.${name}`, {
      dtype: t.dtype === 'int32' ? 'I32' : 'F32',
      shape: t.shape,
      data: data as Float32Array | Int32Array,
    });
  }
  teacher.params.dispose();
  const meta = {
    format: CHECKPOINT_FORMAT,
    position: { epoch: 0, iteration: 0, globalStep: 0, optimizerSteps: 0 },
    rngs: {},
    config,
    savedAt: new Date().toISOString(),
  };
  mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  saveSafetensors(join(runDir, LATEST_CHECKPOINT), tensors, {
    format: CHECKPOINT_FORMAT,
    meta: JSON.stringify(meta),
  });
}

/** Runs `carp eval …` in-process; returns the exit code and what it printed. */
async function carpEval(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    stderr += String(s);
    return true;
  });
  try {
    const code = await main(['eval', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('carp eval', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.CARP_DATA_DIR;
    else process.env.CARP_DATA_DIR = saved;
  });

  it('an unknown protocol exits 2 naming the valid ones', async () => {
    const r = await carpEval(['nearest', '--checkpoint', '.']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "carp eval: unknown protocol 'nearest' (valid: knn, linear, kmeans, prototypes, fewshot, retrieval, copydetection)\n",
    );
  });

  it('a missing checkpoint exits 2 naming the path', async () => {
    expect((await carpEval(['knn'])).stderr).toBe('carp eval: --checkpoint DIR|FILE is required\n');
    const r = await carpEval(['knn', '--checkpoint', '/nonexistent/run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('carp eval: --checkpoint /nonexistent/run does not exist\n');
  });

  it('bad dataset / option combinations exit 2 before loading anything', async () => {
    const { runDir } = tempDirs('cli-usage');
    const r = await carpEval(['retrieval', '--checkpoint', runDir, '--dataset', 'voc2007']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('retrieval runs on fashion-mnist, roxford5k, rparis6k');
    const o = await carpEval([
      'fewshot',
      '--checkpoint',
      runDir,
      '--dataset',
      'fashion-mnist',
      '--imsize',
      '256',
    ]);
    expect(o.code).toBe(2);
    expect(o.stderr).toBe(
      'carp eval: --imsize applies to retrieval on roxford5k/rparis6k, not fewshot on fashion-mnist\n',
    );
    const m = await carpEval([
      'fewshot',
      '--checkpoint',
      runDir,
      '--dataset',
      'inat2018',
      '--mode',
      'full',
    ]);
    expect(m.stderr).toContain('--mode applies to fewshot on voc2007, not fewshot on inat2018');
  });

  it('a dataset that is not prepared exits 1 naming the path and the data-script', async () => {
    const { dataDir, runDir } = tempDirs('cli-missing');
    await writeRun(runDir);
    process.env.CARP_DATA_DIR = dataDir;
    const r = await carpEval(['fewshot', '--checkpoint', runDir, '--dataset', 'voc2007']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dataDir, 'voc2007', 'trainval', 'manifest.json'));
    expect(r.stderr).toContain('npx tsx data-scripts/voc2007.ts');
    const k = await carpEval(['knn', '--checkpoint', runDir, '--dataset', 'food101']);
    expect(k.code).toBe(1);
    expect(k.stderr).toContain(join(dataDir, 'food101', 'train'));
    expect(k.stderr).toContain('data-scripts/');
  });

  it('fewshot --dataset voc2007 --mode full --transfer writes its result, named by the non-default mode', async () => {
    const { dataDir, runDir } = tempDirs('cli-voc');
    await writeRun(runDir);
    writeVocFixture(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const r = await carpEval([
      'fewshot',
      '--checkpoint',
      runDir,
      '--dataset',
      'voc2007',
      '--mode',
      'full',
      '--transfer',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fewshot on voc2007: {"full":{"mAP":');
    const name = /written to .*\/eval\/(fewshot-voc2007\.s[0-9a-f]{8})\.json/.exec(r.stdout)![1];
    const file = join(runDir, 'eval', `${name}.json`);
    expect(existsSync(file)).toBe(true);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({ protocol: 'fewshot', dataset: 'voc2007', proxy: false });
    expect(json.settings.mode).toBe('full');
    expect(json.checkpoint).toBe(`${join(runDir, LATEST_CHECKPOINT)}@step0`);
  });

  it('--limit says which subset it took: a log line per split and the result settings', async () => {
    const { dataDir, runDir } = tempDirs('cli-limit');
    await writeRun(runDir);
    writeVocFixture(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    const r = await carpEval([
      'fewshot',
      '--checkpoint',
      runDir,
      '--dataset',
      'voc2007',
      '--mode',
      'full',
      '--transfer',
      '--limit',
      '16',
    ]);
    expect(r.code).toBe(0);
    // VOC is multi-label: a seeded random subset (class-stratified needs one label per image).
    expect(r.stderr).toContain(
      'voc2007/trainval: a seeded random subset of 16 of 24 images (seed 0; --limit)\n',
    );
    expect(r.stderr).toContain(
      'voc2007/test: a seeded random subset of 16 of 20 images (seed 0; --limit)\n',
    );
    const name = /written to .*\/eval\/(fewshot-voc2007\.s[0-9a-f]{8}\.limit16)\.json/.exec(
      r.stdout,
    )![1];
    const json = JSON.parse(readFileSync(join(runDir, 'eval', `${name}.json`), 'utf8'));
    expect(json.partial).toBe(true);
    expect(json.settings.subset).toBe(
      'a seeded class-stratified subset of 16 images per split (seed 0; multi-label: seeded random)',
    );
  });

  it("without --dataset: the run's own dataset, never Fashion-MNIST by default", async () => {
    const { dataDir, runDir } = tempDirs('cli-own');
    await writeRun(
      runDir,
      resolveConfig('fmnist-tiny', [...TINY_RGB_OVERRIDES, 'data.dataset=cifar10']),
    );
    process.env.CARP_DATA_DIR = dataDir;
    const r = await carpEval(['knn', '--checkpoint', runDir, '--limit', '40']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(dataDir, 'cifar10', 'train'));
    expect(r.stdout).toBe('');
  });

  it('a dataset the checkpoint cannot take (channels, image size) is refused, exit 1', async () => {
    const { dataDir, runDir } = tempDirs('cli-mismatch');
    writeVocFixture(dataDir);
    process.env.CARP_DATA_DIR = dataDir;
    // A one-channel network cannot take RGB images.
    await writeRun(runDir, resolveConfig('fmnist-tiny', ['model.width=2']));
    const c = await carpEval([
      'fewshot',
      '--checkpoint',
      runDir,
      '--dataset',
      'voc2007',
      '--transfer',
    ]);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(
      `carp eval: voc2007/trainval: images have 3 channel(s), the network takes 1 (RGB images are not converted to grey: evaluate a network trained on RGB data)\n`,
    );
    // 32-px RGB crops, a run on fashion-mnist: the 40-px voc2007 fixture images are a transfer.
    const { runDir: rgbRun } = tempDirs('cli-mismatch-rgb');
    await writeRun(rgbRun);
    const s = await carpEval(['fewshot', '--checkpoint', rgbRun, '--dataset', 'voc2007']);
    expect(s.code).toBe(1);
    expect(s.stderr).toBe(
      `carp eval: voc2007/trainval: images are 40×40, the run trained on fashion-mnist with 32-px crops; evaluating it here is a transfer evaluation: pass --transfer (T-eval resizes the images to 32 px) or evaluate on fashion-mnist\n`,
    );
  });
});
