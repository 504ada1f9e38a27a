/**
 * `carp config [--preset NAME | --config FILE | --run DIR] [--set key=value …]
 *  [--keys | --schema]`: prints the resolved config as JSON (what `carp pretrain` would
 * run with; `--run` a run's saved one), every key with its default and meaning
 * (`--keys`), or the JSON Schema of a config file (`--schema`, = docs/config.schema.json).
 * Loads no backend and writes nothing.
 */
import { join } from 'node:path';
import { PAPER_DEFAULTS } from '../config/schema';
import { configJsonSchema, defaultOf, KEYS } from '../config/validate';
import { parseCommand, UsageError, type OptionSpec } from './args';
import { CONFIG_OPTIONS, configFromArgs, configFromFile } from './configArgs';

const SPEC: Record<string, OptionSpec> = {
  ...CONFIG_OPTIONS,
  run: { type: 'string', help: 'a run directory: its saved config (RUN/config.json)' },
  keys: {
    type: 'boolean',
    help: 'list every key: default (the paper, §5.5), value (with a config) and meaning',
  },
  schema: { type: 'boolean', help: 'print the JSON Schema of a config file' },
  json: { type: 'boolean', help: 'JSON output (the config and --schema are JSON anyway)' },
};

const USAGE =
  'carp config [--preset NAME | --config FILE | --run DIR] [--set key=value …] [--keys | --schema] [--json]';

export async function configCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    SPEC,
    {
      usage: USAGE,
      description:
        'Print the resolved config (JSON), every key with its default and meaning, or the\n' +
        'JSON Schema of a config file. Without --preset/--config/--run: the paper defaults.',
    },
    0,
  );
  if (!parsed) return 0;
  const { options } = parsed;
  if (options.keys && options.schema) throw new UsageError('give --keys or --schema, not both');
  const sources = ['preset', 'config', 'run'].filter((k) => options[k] !== undefined);
  if (sources.length > 1)
    throw new UsageError(
      `give one of --preset, --config, --run, not ${sources.map((s) => '--' + s).join(' and ')}`,
    );
  if (options.schema) {
    if (sources.length > 0 || options.set)
      throw new UsageError('--schema takes no config (the schema is the same for every config)');
    process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + '\n');
    return 0;
  }
  const config =
    options.run !== undefined
      ? configFromFile(join(options.run as string, 'config.json'), (options.set as string[]) ?? [])
      : configFromArgs(sources.length > 0 ? options : { ...options, preset: 'paper-imagenet-r50' });
  if (!options.keys) {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    return 0;
  }
  const rows = Object.entries(KEYS).map(([key, k]) => ({
    key,
    default: defaultOf(key),
    value: key.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], config),
    meaning: k.meaning,
  }));
  if (options.json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return 0;
  }
  const text = (v: unknown) => JSON.stringify(v);
  const keyW = Math.max(...rows.map((r) => r.key.length));
  process.stdout.write(
    `defaults: ${PAPER_DEFAULTS.preset} (the paper); values: ${config.preset}\n\n` +
      rows
        .map(
          (r) =>
            `${r.key.padEnd(keyW)}  default ${text(r.default)}` +
            (text(r.value) === text(r.default) ? '' : `, here ${text(r.value)}`) +
            `\n${' '.repeat(keyW + 2)}${r.meaning}\n`,
        )
        .join(''),
  );
  return 0;
}
