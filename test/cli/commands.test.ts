/**
 * Each command's own module, called directly (main.ts loads them lazily): its --help
 * names its usage, and its first refusals are UsageErrors thrown before anything runs.
 * The exit statuses and output through `main` are tested in cli.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args';
import { benchCommand } from '../../src/cli/bench';
import { configCommand } from '../../src/cli/config';
import { evalCommand, PROTOCOLS } from '../../src/cli/evaluate';
import { exportConfigCommand } from '../../src/cli/exportConfig';
import { pretrainCommand } from '../../src/cli/pretrain';
import { quickstartCommand } from '../../src/cli/quickstart';
import { reportCommand } from '../../src/cli/report';
import { resolveConfig } from '../../src/config/resolve';

afterEach(() => vi.restoreAllMocks());

/** Runs a command, capturing stdout. */
async function run(f: (argv: string[]) => Promise<number>, argv: string[]) {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    stdout += String(s);
    return true;
  });
  const code = await f(argv);
  vi.restoreAllMocks();
  return { code, stdout };
}

const COMMANDS: [string, (argv: string[]) => Promise<number>][] = [
  ['bench', benchCommand],
  ['config', configCommand],
  ['eval', evalCommand],
  ['export-config', exportConfigCommand],
  ['pretrain', pretrainCommand],
  ['quickstart', quickstartCommand],
  ['report', reportCommand],
];

describe.each(COMMANDS)('carp %s', (name, command) => {
  it('--help prints the usage and returns 0', async () => {
    const r = await run(command, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0].startsWith(`usage: carp ${name} `)).toBe(true);
  });
});

describe('first refusals, before anything runs', () => {
  const refuses = (f: (argv: string[]) => Promise<number>, argv: string[], message: string) =>
    expect(f(argv)).rejects.toThrow(new UsageError(message));

  it('bench, quickstart and pretrain take no positional argument', async () => {
    await refuses(benchCommand, ['x'], "unexpected argument 'x'");
    await refuses(quickstartCommand, ['x'], "unexpected argument 'x'");
    await refuses(pretrainCommand, ['x'], "unexpected argument 'x'");
  });

  it('pretrain wants --out; quickstart only Fashion-MNIST presets', async () => {
    await refuses(pretrainCommand, [], '--out DIR is required');
    await refuses(
      quickstartCommand,
      ['--preset', 'cifar10-r18'],
      "quickstart runs on the embedded fashion-mnist; preset 'cifar10-r18' uses cifar10",
    );
  });

  it('config wants one source and one of --keys / --schema', async () => {
    await refuses(configCommand, ['--keys', '--schema'], 'give --keys or --schema, not both');
    await refuses(
      configCommand,
      ['--preset', 'fmnist-tiny', '--run', 'r'],
      'give one of --preset, --config, --run, not --preset and --run',
    );
    await refuses(
      configCommand,
      ['--schema', '--preset', 'fmnist-tiny'],
      '--schema takes no config (the schema is the same for every config)',
    );
  });

  it('eval wants a known protocol; report one existing run directory', async () => {
    await refuses(evalCommand, [], `give a protocol (${PROTOCOLS.join(', ')})`);
    await refuses(
      evalCommand,
      ['nope'],
      `unknown protocol 'nope' (valid: ${PROTOCOLS.join(', ')})`,
    );
    await refuses(reportCommand, [], 'give exactly one RUN_DIR');
    await refuses(
      reportCommand,
      ['/nonexistent/run'],
      'run directory /nonexistent/run does not exist',
    );
  });

  it('export-config wants --format official', async () => {
    await refuses(exportConfigCommand, [], '--format must be "official", got null');
  });
});

describe('carp config', () => {
  it('prints the resolved preset as JSON', async () => {
    const r = await run(configCommand, ['--preset', 'fmnist-tiny', '--set', 'train.epochs=3']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(resolveConfig('fmnist-tiny', ['train.epochs=3']));
  });
});
