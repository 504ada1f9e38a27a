/**
 * Minimal, strict argument parsing for the `carp` CLI (architecture §3.3): unknown
 * options are errors (the reference silently ignored some flags), repeated `--set`
 * accumulates, and every error is one line naming the option.
 */
export class UsageError extends Error {}

export interface OptionSpec {
  /** 'string' takes a value, 'boolean' is a flag, 'list' takes a value and may repeat. */
  type: 'string' | 'boolean' | 'list';
  help: string;
}

export type ParsedArgs = {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) {
      throw new UsageError(
        `unknown option --${name} (valid: ${Object.keys(spec)
          .map((k) => '--' + k)
          .join(', ')})`,
      );
    }
    if (s.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) {
      throw new UsageError(`--${name} needs a value`);
    }
    if (s.type === 'list') options[name] = [...((options[name] as string[]) ?? []), value];
    else options[name] = value;
  }
  return { options, positionals };
}

export function formatHelp(
  usage: string,
  spec: Record<string, OptionSpec>,
  description: string,
): string {
  const width = Math.max(...Object.keys(spec).map((k) => k.length + 2), 8);
  const lines = Object.entries(spec).map(
    ([k, s]) =>
      `  ${('--' + k).padEnd(width)}  ${s.help}${s.type === 'list' ? ' (repeatable)' : ''}`,
  );
  return `usage: ${usage}\n\n${description}\n\noptions:\n${lines.join('\n')}\n`;
}
