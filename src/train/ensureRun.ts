/**
 * "Train or reuse" for notebooks and scripts that need a trained run but are not about
 * training (notebooks 02–09 each evaluate one protocol): a completed run
 * in `runDir` with the same resolved config is reused, an interrupted one is resumed
 * (the trainer's exact resume, §7), and an absent one is trained from scratch.
 * A run of another config is never touched: that is an error naming the first
 * differing key, so a changed preset cannot silently evaluate stale weights.
 */
import { firstConfigDifference } from '../config/difference';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CarpConfig } from '../config/schema';
import { readMetrics, type StepMetrics } from './metricsLog';
import { readRunRecord } from '../util/runRecord';
import { LATEST_CHECKPOINT, pretrain, type PretrainResult } from './trainer';
import { comparableConfig } from './runSetup';

export interface EnsureRunOptions {
  /** The resolved configuration (see `resolveConfig`). */
  config: CarpConfig;
  /** Run directory, e.g. `runs/notebooks-fmnist-small`. */
  runDir: string;
  /**
   * Called with every micro-step of the training done now, or — when the run is
   * reused — with every row the run logged (`metrics.jsonl`), so live curves show
   * the run's history either way.
   */
  onStep?: (m: StepMetrics) => void;
  /** Progress line on stderr while training (default true). */
  progress?: boolean;
}

export interface EnsureRunResult {
  runDir: string;
  /** What happened: reused a completed run, resumed an interrupted one, or trained anew. */
  action: 'reused' | 'resumed' | 'trained';
  /** The trainer's result when training ran now; null when reused. */
  training: PretrainResult | null;
  /** The run's logged metrics rows (after training, when it ran). */
  metrics: StepMetrics[];
}

/** Reuses, resumes or trains the run of `config` in `runDir` (see module comment). */
export async function ensureRun(o: EnsureRunOptions): Promise<EnsureRunResult> {
  const { config, runDir } = o;
  const metricsPath = join(runDir, 'metrics.jsonl');
  const hasCheckpoint = existsSync(join(runDir, LATEST_CHECKPOINT));
  if (hasCheckpoint) {
    const configPath = join(runDir, 'config.json');
    const stored: unknown = existsSync(configPath)
      ? JSON.parse(readFileSync(configPath, 'utf8'))
      : null;
    const diff = firstConfigDifference(comparableConfig(config), comparableConfig(stored));
    if (diff) {
      throw new Error(
        `${runDir} holds a run of another configuration (key '${diff}' differs); ` +
          `delete that folder or choose another run directory`,
      );
    }
    const completed =
      existsSync(join(runDir, 'run.json')) && readRunRecord(runDir).status === 'completed';
    if (completed) {
      const metrics = readMetrics(metricsPath);
      if (o.onStep) for (const m of metrics) o.onStep(m);
      return { runDir, action: 'reused', training: null, metrics };
    }
  }
  const training = await pretrain({
    config,
    outDir: runDir,
    resume: hasCheckpoint,
    onStep: o.onStep,
    progress: o.progress,
  });
  return {
    runDir,
    action: hasCheckpoint ? 'resumed' : 'trained',
    training,
    metrics: readMetrics(metricsPath),
  };
}
