/**
 * Argument parsing for the `carp` CLI (architecture §3.3) on Node's `util.parseArgs`
 * (strict): unknown options are errors (the reference silently ignored some flags), a
 * `list` option may repeat, and every error is one line naming the option. `-h/--help` and
 * `-q/--quiet` are added to every command.
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { setLogLevel } from '../util/log';

/** A usage mistake: one line on stderr, exit status 2. */
export class UsageError extends Error {}

/** Exit statuses of every command (printed by `--help`). */
export const EXIT_CODES =
  'exit status: 0 done; 1 refused or failed (data or a checkpoint refused, an error while\n' +
  '  running); 2 usage, nothing ran (unknown command or option, a missing or malformed\n' +
  '  argument, an invalid config or --set value); 130/143 pretrain stopped by SIGINT/SIGTERM\n' +
  '  after saving a checkpoint\n';

export interface OptionSpec {
  /** 'string' takes a value, 'boolean' is a flag, 'list' takes a value and may repeat. */
  type: 'string' | 'boolean' | 'list';
  help: string;
  /** One-letter alias. */
  short?: string;
}

export type ParsedArgs = {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

/** The options every command has. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  quiet: {
    type: 'boolean',
    short: 'q',
    help: 'print results and errors only: no progress or notes (as CARP_LOG_LEVEL=warn)',
  },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Node's messages, reworded into one line naming the option. */
function usageMessage(e: Error & { code?: string }, spec: Record<string, OptionSpec>): string {
  const valid = Object.keys(spec)
    .map((k) => '--' + k)
    .join(', ');
  // Node names an option with a short alias as '-o, --out <value>': name the long form.
  const opt = /'(?:-[^-' ], )?(-{1,2}[^' ]+)/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${opt} (valid: ${valid})`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return / does not take an argument/.test(e.message)
        ? `${opt} takes no value`
        : `${opt} needs a value`;
    default:
      return e.message.split('\n')[0];
  }
}

/**
 * Parses `argv` against `spec` plus `COMMON_OPTIONS`; `--quiet` sets the log level. A
 * string option's value may not start with `--` (`--out --resume` is a forgotten value).
 */
export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const all = { ...spec, ...COMMON_OPTIONS };
  const options: Record<
    string,
    { type: 'string' | 'boolean'; multiple?: boolean; short?: string }
  > = {};
  for (const [name, s] of Object.entries(all)) {
    options[name] = {
      type: s.type === 'boolean' ? 'boolean' : 'string',
      ...(s.type === 'list' ? { multiple: true } : {}),
      ...(s.short ? { short: s.short } : {}),
    };
  }
  let parsed;
  try {
    parsed = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(usageMessage(e as Error & { code?: string }, all));
  }
  const values = parsed.values as ParsedArgs['options'];
  for (const [name, v] of Object.entries(values)) {
    const vs = Array.isArray(v) ? v : [v];
    if (all[name].type !== 'boolean' && vs.some((x) => typeof x === 'string' && x === ''))
      throw new UsageError(`--${name} needs a value`);
  }
  if (values.quiet) setLogLevel('warn');
  return { options: { ...values }, positionals: parsed.positionals };
}

/** The `--help` text: usage, description, every option, the exit statuses. */
export function formatHelp(
  usage: string,
  spec: Record<string, OptionSpec>,
  description: string,
): string {
  const all = { ...spec, ...COMMON_OPTIONS };
  const name = (k: string, s: OptionSpec) =>
    `${s.short ? `-${s.short}, ` : '    '}--${k}${s.type === 'boolean' ? '' : ' V'}`;
  const width = Math.max(...Object.entries(all).map(([k, s]) => name(k, s).length), 8);
  const lines = Object.entries(all).map(
    ([k, s]) =>
      `  ${name(k, s).padEnd(width)}  ${s.help}${s.type === 'list' ? ' (repeatable)' : ''}`,
  );
  return `usage: ${usage}\n\n${description}\n\noptions:\n${lines.join('\n')}\n\n${EXIT_CODES}`;
}

/**
 * A command's arguments, with `--help` answered here so that every command prints it
 * alike: null once the help is printed (the command then returns 0). `maxPositionals`:
 * the most positional arguments the command takes (a further one is a usage error);
 * undefined leaves them to the command.
 */
export function parseCommand(
  argv: string[],
  spec: Record<string, OptionSpec>,
  help: { usage: string; description: string },
  maxPositionals?: number,
): ParsedArgs | null {
  const parsed = parseArgs(argv, spec);
  if (parsed.options.help) {
    process.stdout.write(formatHelp(help.usage, spec, help.description));
    return null;
  }
  const extra = parsed.positionals[maxPositionals ?? Infinity];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  return parsed;
}
