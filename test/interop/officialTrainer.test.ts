/**
 * The official trainer's command line for kit configs. Expected lines are written by hand
 * from get_args_parser() of sthalles/carp's main_carp.py (argument names and order) and
 * the kit's presets.
 */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { resolveConfig } from '../../src/config/resolve';
import { PAPER_DEFAULTS } from '../../src/config/schema';
import { OFFICIAL_ARGS, OFFICIAL_FIXED } from '../../src/interop/officialArgs';
import {
  configLeaves,
  OFFICIAL_ROUTES,
  OfficialExportError,
  officialCommand,
  shellQuote,
} from '../../src/interop/officialTrainer';

const PAPER_LINE =
  'torchrun --nproc_per_node=4 main_carp.py --arch resnet50 --out_dim 65536 ' +
  '--norm_last_layer true --momentum_teacher 0.99 --use_bn_in_head true ' +
  '--weight_decay 0.000001 --weight_decay_end 0.000001 --gradient_accumulation_steps 32 ' +
  '--batch_size_per_gpu 32 --epochs 100 --lr 0.45 --warmup_epochs 0 --min_lr 0.0048 ' +
  '--optimizer lars --partition_size 512 --bottleneck_dim 256 --global_crops_scale 0.2 1 ' +
  '--local_crops_number 6 --local_crops_scale 0.05 0.2 --data_path /data/imagenet/train ' +
  '--saveckp_freq 25 --print_freq 100 --seed 0';

async function carp(args: string[]) {
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
    return { code: await main(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('officialCommand', () => {
  it('paper preset on 4 GPUs: the official defaults, with 32 accumulation steps (4096 images)', () => {
    const cmd = officialCommand(resolveConfig('paper-imagenet-r50'), {
      nprocPerNode: 4,
      dataPath: '/data/imagenet/train',
    });
    expect(cmd.line).toBe(PAPER_LINE);
    expect(cmd.argv.slice(0, 3)).toEqual(['torchrun', '--nproc_per_node=4', 'main_carp.py']);
  });

  it('paper preset on 8 GPUs with overrides: per-GPU batch, warm-up, 200 epochs, quoted path', () => {
    const c = resolveConfig('paper-imagenet-r50', [
      'train.epochs=200',
      'optim.warmupEpochs=10',
      'optim.lrRef=0.6',
      'optim.minLr=0.006',
      'crops.numLocal=0',
      'model.headBatchNorm=false',
    ]);
    const cmd = officialCommand(c, { nprocPerNode: 8, dataPath: "/data/Jo's images" });
    expect(cmd.line).toBe(
      'torchrun --nproc_per_node=8 main_carp.py --arch resnet50 --out_dim 65536 ' +
        '--norm_last_layer true --momentum_teacher 0.99 --use_bn_in_head false ' +
        '--weight_decay 0.000001 --weight_decay_end 0.000001 --gradient_accumulation_steps 32 ' +
        '--batch_size_per_gpu 16 --epochs 200 --lr 0.6 --warmup_epochs 10 --min_lr 0.006 ' +
        '--optimizer lars --partition_size 512 --bottleneck_dim 256 --global_crops_scale 0.2 1 ' +
        "--local_crops_number 0 --local_crops_scale 0.05 0.2 --data_path '/data/Jo'\\''s images' " +
        '--saveckp_freq 25 --print_freq 100 --seed 0',
    );
  });

  it('refuses the CIFAR preset, naming every key the official trainer fixes otherwise', () => {
    const run = () =>
      officialCommand(resolveConfig('cifar10-r18'), { nprocPerNode: 4, dataPath: '/d' });
    expect(run).toThrow(OfficialExportError);
    try {
      run();
    } catch (e) {
      expect((e as OfficialExportError).keys).toEqual([
        'model.cifarStem',
        'crops.globalSize',
        'crops.localSize',
        'crops.blurProb',
        'crops.mean',
        'crops.std',
      ]);
      expect((e as Error).message).toContain(
        'model.cifarStem = true (fixed to false by torchvision',
      );
    }
  });

  it('refuses LARS momentum and a batch the GPUs do not divide', () => {
    const c = resolveConfig('paper-imagenet-r50', ['optim.momentum=0.95']);
    expect(() => officialCommand(c, { nprocPerNode: 3, dataPath: '/d' })).toThrow(
      'the official trainer cannot reproduce this config: optim.momentum = 0.95 (fixed to 0.9 by utils.LARS(momentum=0.9)); ' +
        'train.batchSize = 128 (not divisible by --nproc_per_node=3)',
    );
  });

  it('refuses a regulariser weight other than 1 (the official loss adds both terms)', () => {
    const off = resolveConfig('paper-imagenet-r50', ['loss.regWeight=0']);
    expect(() => officialCommand(off, { nprocPerNode: 4, dataPath: '/d' })).toThrow(
      'the official trainer cannot reproduce this config: loss.regWeight = 0 ' +
        '(fixed to 1 by modules/carp_loss.py (consistency + entropy, both weight 1))',
    );
    const one = resolveConfig('paper-imagenet-r50', ['loss.regWeight=1']);
    expect(officialCommand(one, { nprocPerNode: 4, dataPath: '/data/imagenet/train' }).line).toBe(
      PAPER_LINE,
    );
  });

  it('every config key has a route; every fixed key a fixed value; every argument exists', () => {
    const keys = [...configLeaves(PAPER_DEFAULTS).keys()].sort();
    expect(Object.keys(OFFICIAL_ROUTES).sort()).toEqual(keys);
    const names = new Set(OFFICIAL_ARGS.map((a) => a.name));
    for (const [key, r] of Object.entries(OFFICIAL_ROUTES)) {
      for (const route of Array.isArray(r) ? r : [r]) {
        if ('fixed' in route) expect(OFFICIAL_FIXED[key], key).toBeDefined();
        if ('arg' in route) expect(names.has(route.arg), route.arg).toBe(true);
      }
    }
  });

  it('shell quoting', () => {
    expect(shellQuote('/a/b-c_d.e')).toBe('/a/b-c_d.e');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('carp export-config', () => {
  it('prints the line on stdout and notes on stderr', async () => {
    const r = await carp([
      'export-config',
      '--format',
      'official',
      '--preset',
      'paper-imagenet-r50',
      '--nproc-per-node',
      '4',
      '--data-path',
      '/data/imagenet/train',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${PAPER_LINE}\n`);
    expect(r.stderr).toMatch(/^note: Run it in a clone of https:\/\/github.com\/sthalles\/carp/);
  });

  it('a refused config exits 1 naming the keys; bad usage exits 2', async () => {
    const refused = await carp([
      'export-config',
      '--format=official',
      '--preset=paper-imagenet-r50',
      '--set=model.width=32',
      '--nproc-per-node=4',
      '--data-path=/d',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('model.width = 32 (fixed to 64 by torchvision');
    const usage = await carp(['export-config', '--format', 'yaml', '--preset', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--format must be "official", got "yaml"');
    const missing = await carp([
      'export-config',
      '--format',
      'official',
      '--preset',
      'paper-imagenet-r50',
      '--data-path',
      '/d',
    ]);
    expect(missing.stderr).toContain('--nproc-per-node N is required');
  });
});
