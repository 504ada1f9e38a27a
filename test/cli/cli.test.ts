import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import { KEYS } from '../../src/config/validate';
import { initTestBackend } from '../helpers/tensors';
import { carp } from './carp';

const tmp = (tag: string) => mkdtempSync(join(tmpdir(), `carp-cli-${tag}-`));
const PRESETS = 'paper-imagenet-r50, cifar10-r18, fmnist-small, fmnist-10min, fmnist-tiny';
const savedLevel = process.env.CARP_LOG_LEVEL;

/** `node dist/cli/main.js …` as a user runs it (needs `npm run build`). */
function spawnCarp(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('carp CLI conventions', () => {
  afterEach(() => {
    if (savedLevel === undefined) delete process.env.CARP_LOG_LEVEL;
    else process.env.CARP_LOG_LEVEL = savedLevel;
  });

  it('--version prints the package version', async () => {
    const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
    expect(await carp(['--version'])).toEqual({
      code: 0,
      stdout: `carp-kit ${version}\n`,
      stderr: '',
    });
  });

  it('-h and --help on every command: usage, options with -h/-q, exit statuses', async () => {
    const commands = [
      'pretrain',
      'eval',
      'bench',
      'report',
      'quickstart',
      'config',
      'export-config',
    ];
    for (const cmd of commands) {
      for (const flag of ['-h', '--help']) {
        const r = await carp([cmd, flag]);
        expect(r.code, `${cmd} ${flag}`).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout.startsWith(`usage: carp ${cmd}`), cmd).toBe(true);
        expect(r.stdout).toContain('  -h, --help ');
        expect(r.stdout).toContain('  -q, --quiet ');
        expect(r.stdout).toContain('\nexit status: 0 done; 1 refused or failed');
      }
    }
    const top = await carp(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('  CARP_LOG_LEVEL  error, warn, info (default) or debug');
    expect(top.stdout).toContain('exit status: 0 done;');
  });

  it('usage mistakes: one line naming the option, exit 2', async () => {
    const cases: [string[], string][] = [
      [
        ['pretrain', '--preset', 'fmnist-tiny', '--outdir', 'x'],
        'carp pretrain: unknown option --outdir (valid: --preset, --config, --set, --out, --resume, --dry-run, --json, --quiet, --help)\n',
      ],
      [['pretrain', '--out'], 'carp pretrain: --out needs a value\n'],
      [['pretrain', '--out', '--resume'], 'carp pretrain: --out needs a value\n'],
      [['pretrain', '--out', 'x', '--resume=yes'], 'carp pretrain: --resume takes no value\n'],
      [
        ['config', '-x'],
        'carp config: unknown option -x (valid: --preset, --config, --set, --run, --keys, --schema, --json, --quiet, --help)\n',
      ],
      [['config', 'extra'], "carp config: unexpected argument 'extra'\n"],
      [
        ['frobnicate'],
        "carp: unknown command 'frobnicate' (valid: pretrain, eval, bench, report, quickstart, config, export-config)\n",
      ],
    ];
    for (const [args, stderr] of cases) {
      const r = await carp(args);
      expect(r, args.join(' ')).toEqual({ code: 2, stdout: '', stderr });
    }
    process.env.CARP_LOG_LEVEL = 'loud';
    expect(await carp(['config'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "carp: CARP_LOG_LEVEL must be one of error, warn, info, debug, got 'loud'\n",
    });
  });

  it('the compiled CLI: --version, a usage error exits 2, a refused dataset exits 1', () => {
    expect(existsSync('dist/cli/main.js')).toBe(true);
    const v = spawnCarp(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^carp-kit \d+\.\d+\.\d+\n$/);
    const u = spawnCarp(['eval', 'knn', '--k']);
    expect([u.code, u.stdout, u.stderr]).toEqual([2, '', 'carp eval: --k needs a value\n']);
    const dataDir = tmp('nodata');
    const f = spawnCarp(
      ['pretrain', '--preset', 'cifar10-r18', '--out', join(dataDir, 'run'), '--dry-run'],
      { CARP_DATA_DIR: dataDir },
    );
    expect(f.code).toBe(1);
    expect(f.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(f.stderr).toContain(join(dataDir, 'cifar10', 'train'));
    expect(existsSync(join(dataDir, 'run'))).toBe(false);
  });
});

describe('carp config', () => {
  it('prints the resolved config; the paper defaults without a source', async () => {
    const r = await carp(['config', '--preset', 'fmnist-tiny', '--set', 'train.epochs=3']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(resolveConfig('fmnist-tiny', ['train.epochs=3']));
    const d = await carp(['config']);
    expect(JSON.parse(d.stdout)).toEqual(resolveConfig('paper-imagenet-r50'));
  });

  it('--keys lists every key with its default, this config value and meaning', async () => {
    const j = await carp(['config', '--keys', '--json', '--preset', 'fmnist-tiny']);
    const rows = JSON.parse(j.stdout) as { key: string }[];
    expect(rows.map((r) => r.key)).toEqual(Object.keys(KEYS));
    expect(rows.find((r) => r.key === 'train.epochs')).toEqual({
      key: 'train.epochs',
      default: 100,
      value: 2,
      meaning: 'Training epochs. [CODE] 100 ([README] 100/200/400 released)',
    });
    const t = await carp(['config', '--keys', '--preset', 'fmnist-tiny']);
    const pad = ' '.repeat(Math.max(...Object.keys(KEYS).map((k) => k.length)) + 2);
    expect(t.stdout).toContain(
      `\n${'train.epochs'.padEnd(pad.length - 2)}  default 100, here 2\n${pad}Training epochs. [CODE] 100 ([README] 100/200/400 released)\n`,
    );
    expect(t.stdout).toContain(`\n${'train.seed'.padEnd(pad.length - 2)}  default 0\n`);
  });

  it('--schema prints docs/config.schema.json', async () => {
    const r = await carp(['config', '--schema']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync('docs/config.schema.json', 'utf8'));
  });

  it('config file problems name the file; exit 2', async () => {
    const dir = tmp('config');
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const cases: [string, string][] = [
      [
        file('typo.json', '{"preset": "fmnist-smal"}'),
        `unknown preset 'fmnist-smal' (known: ${PRESETS}, or custom)`,
      ],
      [
        file('tostring.json', '{"preset": "fmnist-tiny", "model": {"width": {"toString": {}}}}'),
        `'model.width' must be an integer, got {"toString":{}}`,
      ],
      [
        file('proto.json', '{"preset": "fmnist-tiny", "__proto__": {"train": {"epochs": 1}}}'),
        "unknown key '__proto__' (known: preset, model, crops, optim, teacher, loss, train, data)",
      ],
    ];
    for (const [f, issue] of cases) {
      expect(await carp(['config', '--config', f])).toEqual({
        code: 2,
        stdout: '',
        stderr: `carp config: invalid CARP config in ${f}: ${issue}\n`,
      });
    }
    const setProto = await carp(['config', '--preset', 'fmnist-tiny', '--set', 'constructor=1']);
    expect(setProto).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "carp config: invalid CARP config: unknown key 'constructor' (known: preset, model, crops, optim, teacher, loss, train, data) (from 'constructor=1')\n",
    });
    const notJson = file('bad.json', '{');
    const nj = await carp(['config', '--config', notJson]);
    expect(nj.code).toBe(2);
    expect(nj.stderr.startsWith(`carp config: config ${notJson} is not JSON: `)).toBe(true);
  });
});

describe('carp pretrain', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('--dry-run resolves, opens the data, prints the plan and writes nothing', async () => {
    const out = join(tmp('dry'), 'run');
    const r = await carp(['pretrain', '--preset', 'fmnist-tiny', '--out', out, '--dry-run']);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout:
        `dry run (nothing written): ${out}\n` +
        'preset fmnist-tiny\n' +
        'data fashion-mnist/train: 256 images 28×28×1, 10 classes (a seeded class-stratified subset of 60000, seed 0)\n' +
        'model resnet18, input channels 1, K 64 prototypes in 4 blocks\n' +
        'views 4 per image (globals 28 px, locals 14 px, channels 1)\n' +
        'steps 2 epochs × 8 micro-steps = 16 (micro-batch 32 × accumulation 2 = 64 images per optimiser step, 4 per epoch)\n' +
        'peak learning rate 0.1125\n',
    });
    expect(existsSync(out)).toBe(false);
    const j = await carp([
      'pretrain',
      '--preset',
      'fmnist-tiny',
      '--out',
      out,
      '--dry-run',
      '--json',
    ]);
    const plan = JSON.parse(j.stdout);
    expect(plan.plan.data.subset).toEqual({
      count: 256,
      of: 60000,
      seed: 0,
      rule: 'class-stratified',
    });
    expect(plan.config).toEqual(resolveConfig('fmnist-tiny'));
  });

  it('--dry-run refuses views with the wrong channel count for the network (exit 1)', async () => {
    const out = join(tmp('dry-rgb'), 'run');
    const rgb = [
      '--set',
      'model.inChannels=3',
      '--set',
      'crops.mean=0.5,0.5,0.5',
      '--set',
      'crops.std=0.5,0.5,0.5',
    ];
    const r = await carp([
      'pretrain',
      '--preset',
      'fmnist-tiny',
      '--out',
      out,
      '--dry-run',
      ...rgb,
    ]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "carp pretrain: fashion-mnist/train has 1-channel images but 'model.inChannels' is 3 (set 'crops.channels' to rgb)\n",
    });
    const ok = await carp([
      'pretrain',
      '--preset',
      'fmnist-tiny',
      '--out',
      out,
      '--dry-run',
      ...rgb,
      '--set',
      'crops.channels=rgb',
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('views 4 per image (globals 28 px, locals 14 px, channels 3)\n');
  });

  it('--resume needs only --out: the saved config is the config', async () => {
    const out = join(tmp('resume'), 'run');
    const none = await carp(['pretrain', '--out', out, '--resume']);
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: `carp pretrain: --resume: ${out} holds no run to resume (no checkpoints/latest.safetensors)\n`,
    });
    const small = [
      '--set',
      'data.limit=64',
      '--set',
      'train.epochs=2',
      '--set',
      'train.accumulation=1',
    ];
    const first = await carp(['pretrain', '--preset', 'fmnist-tiny', ...small, '--out', out, '-q']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^pretrain completed: 4\/4 micro-steps, /);
    const both = await carp(['pretrain', '--preset', 'fmnist-tiny', '--out', out, '--resume']);
    expect(both).toEqual({
      code: 2,
      stdout: '',
      stderr: `carp pretrain: --resume continues with the run's saved config (${join(out, 'config.json')}); drop --preset/--config\n`,
    });
    const again = await carp(['pretrain', '--out', out, '--resume', '--json', '-q']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      completed: true,
      steps: 4,
      totalSteps: 4,
      runDir: out,
    });
  });
});
