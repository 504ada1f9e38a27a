/**
 * The CLI's argument parser: strict options, repeatable lists, one-line usage errors
 * naming the option, --quiet lowering the log level, and the --help layout.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  COMMON_OPTIONS,
  formatHelp,
  parseArgs,
  parseCommand,
  UsageError,
  type OptionSpec,
} from '../../src/cli/args';
import { logLevel, setLogLevel } from '../../src/util/log';

const SPEC: Record<string, OptionSpec> = {
  out: { type: 'string', help: 'output folder', short: 'o' },
  resume: { type: 'boolean', help: 'resume' },
  set: { type: 'list', help: 'a key=value' },
};

const level = logLevel();
afterEach(() => {
  setLogLevel(level);
  vi.restoreAllMocks();
});

describe('parseArgs', () => {
  it('reads strings, flags, repeated lists, short names and positionals', () => {
    expect(parseArgs(['a', '-o', 'x', '--resume', '--set', 'k=1', '--set=j=2', 'b'], SPEC)).toEqual(
      {
        options: { out: 'x', resume: true, set: ['k=1', 'j=2'] },
        positionals: ['a', 'b'],
      },
    );
    expect(parseArgs([], SPEC)).toEqual({ options: {}, positionals: [] });
  });

  it('turns every mistake into one UsageError line naming the option', () => {
    const err = (argv: string[]) => () => parseArgs(argv, SPEC);
    expect(err(['--nope'])).toThrow(
      new UsageError('unknown option --nope (valid: --out, --resume, --set, --quiet, --help)'),
    );
    expect(err(['--resume=yes'])).toThrow(new UsageError('--resume takes no value'));
    expect(err(['--out'])).toThrow(new UsageError('--out needs a value'));
    expect(err(['-o'])).toThrow(new UsageError('--out needs a value'));
    expect(err(['-o', '--resume'])).toThrow(new UsageError('-o needs a value'));
    expect(err(['--out', '--resume'])).toThrow(new UsageError('--out needs a value'));
    expect(err(['--out='])).toThrow(new UsageError('--out needs a value'));
    expect(err(['--set', 'a', '--set='])).toThrow(new UsageError('--set needs a value'));
  });

  it('--quiet lowers the log level to warn', () => {
    setLogLevel('info');
    expect(parseArgs(['-q'], SPEC).options.quiet).toBe(true);
    expect(logLevel()).toBe('warn');
  });
});

describe('formatHelp', () => {
  it('lists usage, description, each option aligned, and the exit statuses', () => {
    const help = formatHelp('carp x [options]', SPEC, 'Does x.');
    expect(help.split('\n').slice(0, 10)).toEqual([
      'usage: carp x [options]',
      '',
      'Does x.',
      '',
      'options:',
      '  -o, --out V   output folder',
      '      --resume  resume',
      '      --set V   a key=value (repeatable)',
      `  -q, --quiet   ${COMMON_OPTIONS.quiet.help}`,
      '  -h, --help    show this help',
    ]);
    expect(help.endsWith('after saving a checkpoint\n')).toBe(true);
    expect(help).toContain('exit status: 0 done; 1 refused or failed');
  });
});

describe('parseCommand', () => {
  const HELP = { usage: 'carp x [options]', description: 'Does x.' };

  it('prints the help and returns null on --help', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(parseCommand(['--help', 'extra'], SPEC, HELP, 0)).toBeNull();
    expect(write.mock.calls).toEqual([[formatHelp('carp x [options]', SPEC, 'Does x.')]]);
  });

  it('refuses the first positional beyond maxPositionals, none without a limit', () => {
    expect(parseCommand(['a', '--resume'], SPEC, HELP, 1)).toEqual({
      options: { resume: true },
      positionals: ['a'],
    });
    expect(() => parseCommand(['a', 'b', 'c'], SPEC, HELP, 1)).toThrow(
      new UsageError("unexpected argument 'b'"),
    );
    expect(() => parseCommand(['a'], SPEC, HELP, 0)).toThrow("unexpected argument 'a'");
    expect(parseCommand(['a', 'b', 'c'], SPEC, HELP)?.positionals).toEqual(['a', 'b', 'c']);
  });
});
