/**
 * `carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--dry-run]`
 * and `carp pretrain --out DIR --resume` (architecture §3.3): resolves the config (preset
 * or JSON file, then overrides; on resume the run's saved config.json), selects the
 * backend and runs the trainer; prints where the run directory is. `--dry-run` resolves
 * the config, opens the data and prints the plan, writing nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend/selectBackend';
import type { CarpConfig } from '../config/schema';
import { openDataset } from '../data/datasets';
import { formatPlan, trainingPlan } from '../train/plan';
import { LATEST_CHECKPOINT, pretrain } from '../train/trainer';
import { exitCodeOf } from '../train/stopSignals';
import { parseCommand, UsageError, type OptionSpec } from './args';
import { CONFIG_OPTIONS, configFromArgs, configFromFile } from './configArgs';

export { configFromArgs } from './configArgs';

const SPEC: Record<string, OptionSpec> = {
  ...CONFIG_OPTIONS,
  out: {
    type: 'string',
    help: 'run directory (created; must not hold another run unless --resume)',
  },
  resume: {
    type: 'boolean',
    help: "continue the run in --out from its latest checkpoint, with the run's saved config (--set may change train.checkpointMinutes)",
  },
  'dry-run': {
    type: 'boolean',
    help: 'resolve the config, open the data and print the plan; write nothing',
  },
  json: { type: 'boolean', help: 'print the result (or the --dry-run plan) as JSON' },
};

const USAGE =
  'carp pretrain --preset NAME | --config FILE [--set key=value …] --out DIR [--dry-run]\n' +
  '       carp pretrain --out DIR --resume';

/** The config of the command: given, or on resume the run's saved one. */
function runConfig(options: Record<string, unknown>, out: string): CarpConfig {
  if (!options.resume) return configFromArgs(options);
  if (options.preset !== undefined || options.config !== undefined)
    throw new UsageError(
      `--resume continues with the run's saved config (${join(out, 'config.json')}); drop --preset/--config`,
    );
  const saved = join(out, 'config.json');
  if (!existsSync(join(out, LATEST_CHECKPOINT)) || !existsSync(saved))
    throw new UsageError(`--resume: ${out} holds no run to resume (no ${LATEST_CHECKPOINT})`);
  return configFromFile(saved, (options.set as string[] | undefined) ?? []);
}

export async function pretrainCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    SPEC,
    {
      usage: USAGE,
      description:
        'CARP pretraining; resumable, logs metrics.jsonl and checkpoints into --out.\n' +
        'data.limit trains on a seeded class-stratified subset of N images (not the first N).',
    },
    0,
  );
  if (!parsed) return 0;
  const { options } = parsed;
  if (!options.out) throw new UsageError('--out DIR is required');
  const out = options.out as string;
  if (options.resume && options['dry-run'])
    throw new UsageError('--dry-run plans a new run; it does not combine with --resume');
  const config = runConfig(options, out);
  if (!options.resume && existsSync(join(out, LATEST_CHECKPOINT))) {
    throw new UsageError(
      `${out} already holds a run's checkpoint (${LATEST_CHECKPOINT}); pass --resume or choose another --out`,
    );
  }
  if (options['dry-run']) {
    const source = await openDataset(config.data.dataset, 'train', { limit: config.data.limit });
    try {
      const plan = trainingPlan(config, source);
      process.stdout.write(
        options.json
          ? JSON.stringify({ dryRun: true, out, plan, config }, null, 2) + '\n'
          : `dry run (nothing written): ${out}\n${formatPlan(plan)}`,
      );
    } finally {
      await source.close();
    }
    return 0;
  }
  await selectBackend();
  const r = await pretrain({
    config,
    outDir: out,
    resume: options.resume === true,
    handleSignals: true,
  });
  if (r.interrupted) {
    process.stderr.write(
      `pretrain interrupted by ${r.interrupted} after ${r.steps}/${r.totalSteps} micro-steps; ` +
        `checkpoint saved to ${r.checkpoint}\nresume with: carp pretrain --out ${out} --resume\n`,
    );
    return exitCodeOf(r.interrupted);
  }
  const m = r.lastMetrics;
  if (options.json) {
    process.stdout.write(
      JSON.stringify(
        {
          completed: r.completed,
          steps: r.steps,
          totalSteps: r.totalSteps,
          imagesPerSecond: r.imagesPerSecond,
          seconds: r.seconds,
          lastMetrics: m ?? null,
          runDir: r.runDir,
          checkpoint: r.checkpoint,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
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
