/**
 * `carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--resume]`
 * (architecture §3.3): resolves the config (preset or JSON file, then overrides), selects
 * the backend and runs the trainer; prints where the run directory is.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import { presetNames } from '../config/presets';
import { LATEST_CHECKPOINT, pretrain } from '../train/trainer';
import { exitCodeOf } from '../train/stopSignals';
import { formatHelp, parseArgs, UsageError, type OptionSpec } from './args';

const SPEC: Record<string, OptionSpec> = {
  preset: { type: 'string', help: `start from a preset (${presetNames().join(', ')})` },
  config: {
    type: 'string',
    help: 'start from a JSON config file (partial configs merge over its preset)',
  },
  set: { type: 'list', help: 'override one key, e.g. --set optim.lrRef=0.3 --set train.epochs=10' },
  out: {
    type: 'string',
    help: 'run directory (created; must not hold another run unless --resume)',
  },
  resume: { type: 'boolean', help: 'continue the run in --out from its latest checkpoint' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Resolves --preset/--config/--set into a config (shared with `carp quickstart`). */
export function configFromArgs(options: Record<string, unknown>): CarpConfig {
  const preset = options.preset as string | undefined;
  const file = options.config as string | undefined;
  const sets = (options.set as string[] | undefined) ?? [];
  if (preset && file) throw new UsageError('give either --preset or --config, not both');
  if (!preset && !file) throw new UsageError('give --preset NAME or --config FILE');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read config ${file}: ${(e as Error).message}`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`config ${file} is not JSON: ${(e as Error).message}`);
    }
    return wrapConfigErrors(() => resolveConfig(obj as Record<string, unknown>, sets));
  }
  return wrapConfigErrors(() => resolveConfig(preset!, sets));
}

function wrapConfigErrors(f: () => CarpConfig): CarpConfig {
  try {
    return f();
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\s*\n\s*/g, '; '));
  }
}

export async function pretrainCommand(argv: string[]): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    process.stdout.write(
      formatHelp(
        'carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--resume]',
        SPEC,
        'CARP pretraining; resumable, logs metrics.jsonl and checkpoints into --out.',
      ),
    );
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (!options.out) throw new UsageError('--out DIR is required');
  const config = configFromArgs(options);
  const out = options.out as string;
  if (!options.resume && existsSync(join(out, LATEST_CHECKPOINT))) {
    throw new UsageError(
      `${out} already holds a run's checkpoint (${LATEST_CHECKPOINT}); pass --resume or choose another --out`,
    );
  }
  await selectBackend();
  const r = await pretrain({
    config,
    outDir: options.out as string,
    resume: options.resume === true,
    handleSignals: true,
  });
  if (r.interrupted) {
    const again = argv.includes('--resume') ? argv : [...argv, '--resume'];
    process.stderr.write(
      `pretrain interrupted by ${r.interrupted} after ${r.steps}/${r.totalSteps} micro-steps; ` +
        `checkpoint saved to ${r.checkpoint}\nresume with: carp pretrain ${again.join(' ')}\n`,
    );
    return exitCodeOf(r.interrupted);
  }
  const m = r.lastMetrics;
  process.stdout.write(
    `pretrain ${r.completed ? 'completed' : 'stopped'}: ${r.steps}/${r.totalSteps} micro-steps, ` +
      `${r.imagesPerSecond.toFixed(1)} images/s` +
      (m
        ? `, final loss ${m.loss.toFixed(4)} (consistency ${m.consistency.toFixed(4)}, entropy ${m.entropy.toFixed(4)})`
        : '') +
      `\nrun directory: ${r.runDir}\n`,
  );
  return 0;
}
