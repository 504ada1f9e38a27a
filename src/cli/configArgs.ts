/**
 * The config of a command from `--preset NAME | --config FILE` and `--set key=value …`
 * (`carp pretrain`, `config`, `quickstart`, `export-config`), or a run's saved
 * `config.json`. A config problem is a usage error (exit 2) naming the file it came from.
 */
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import { presetNames } from '../config/presets';
import { UsageError, type OptionSpec } from './args';

/** The options every config-taking command shares. */
export const CONFIG_OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', help: `start from a preset (${presetNames().join(', ')})` },
  config: {
    type: 'string',
    help: 'start from a JSON config file (a partial one merges over the preset it names; docs/config.schema.json)',
  },
  set: { type: 'list', help: 'override one key, e.g. --set optim.lrRef=0.3 --set train.epochs=10' },
};

/** Reads and parses a JSON config file; errors name the file. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`config ${file} is not JSON: ${(e as Error).message}`);
  }
}

/** Resolves --preset/--config/--set into a config. */
export function configFromArgs(options: Record<string, unknown>): CarpConfig {
  const preset = options.preset as string | undefined;
  const file = options.config as string | undefined;
  const sets = (options.set as string[] | undefined) ?? [];
  if (preset && file) throw new UsageError('give either --preset or --config, not both');
  if (!preset && !file) throw new UsageError('give --preset NAME or --config FILE');
  if (file) return configFromFile(file, sets);
  return asUsage(() => resolveConfig(preset!, sets));
}

/** A config file (a run's config.json included) with overrides; errors name the file. */
export function configFromFile(file: string, sets: readonly string[] = []): CarpConfig {
  const obj = readConfigFile(file);
  return asUsage(() => resolveConfig(obj as Record<string, unknown>, sets, { source: file }));
}

function asUsage(f: () => CarpConfig): CarpConfig {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, '; '));
  }
}
