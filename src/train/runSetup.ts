/**
 * Everything a pretraining run needs before its first micro-step: the data source and
 * loader, the per-micro-step schedules (§5.3), the training state, and — on resume —
 * the state, generators, open accumulation group, metrics log and run record restored
 * from `checkpoints/latest.safetensors`, so the next micro-step is exactly the one an
 * uninterrupted run would take.
 */
import { trainingPlan } from './plan';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import { currentBackend } from '../backend/selectBackend';
import { CarpTrainState } from '../carp/trainStep';
import { firstConfigDifference, valueAt } from '../config/difference';
import { multiCropSettings, networkSpec, scaledLr } from '../config/derived';
import { withEarlierLoss } from '../config/earlierConfigs';
import type { CarpConfig } from '../config/schema';
import { openDataset } from '../data/datasets';
import { DataLoader } from '../data/loader';
import type { MultiCropConfig } from '../data/multiCropViews';
import type { ImageSource } from '../data/source';
import {
  accumulatedGradients,
  readCheckpoint,
  restoreCheckpoint,
  type TrainingPosition,
} from '../interop/carpCheckpoint';
import { cosineSchedule } from '../optim/schedules';
import { createRng, type Rng } from '../random';
import { writeFileAtomic } from '../util/atomic';
import { createRunRecord, readRunRecord, writeRunRecord, type RunRecord } from '../util/runRecord';
import { warn } from '../util/warn';
import { truncateMetrics } from './metricsLog';
import { RunCheckpoints } from './runCheckpoints';

/** A run in progress: what the epoch loop reads and updates. */
export interface Run {
  config: CarpConfig;
  outDir: string;
  source: ImageSource;
  ownsSource: boolean;
  loader: DataLoader;
  /** Micro-steps per epoch I. */
  iters: number;
  totalSteps: number;
  lrSchedule: Float64Array;
  momentumSchedule: Float64Array;
  state: CarpTrainState;
  augmentRng: Rng;
  crops: MultiCropConfig;
  position: TrainingPosition;
  record: RunRecord;
  metricsPath: string;
  checkpoints: RunCheckpoints;
}

/**
 * Keys that may change between a run and its resume (they do not change what is
 * computed): removed before configs are compared. A config of an earlier version is
 * first read as what it computed (`withEarlierLoss`).
 */
export function comparableConfig(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const c = withEarlierLoss(config) as { train?: Record<string, unknown> };
  if (typeof c.train !== 'object' || c.train === null) return c;
  const { checkpointMinutes: _ignored, ...train } = c.train;
  return { ...c, train };
}

/** Opens the data and builds loader, schedules and a fresh state for `config`. */
export async function createRun(o: {
  config: CarpConfig;
  outDir: string;
  source?: ImageSource;
}): Promise<Run> {
  const { config, outDir } = o;
  const { train, optim, teacher, model } = config;
  const source =
    o.source ?? (await openDataset(config.data.dataset, 'train', { limit: config.data.limit }));
  try {
    trainingPlan(config, source); // refuses data the network cannot train on, naming why
    const loader = new DataLoader(source, {
      batchSize: train.batchSize,
      seed: train.seed,
      prefetch: 1,
    });
    const iters = loader.batchesPerEpoch;
    // Schedules per micro-step (§5.3): lr scaled by A·B/256, floor unscaled; wd constant.
    const lrSchedule = cosineSchedule({
      base: scaledLr(optim, train),
      final: optim.minLr,
      epochs: train.epochs,
      itersPerEpoch: iters,
      warmupEpochs: optim.warmupEpochs,
    });
    const momentumSchedule = cosineSchedule({
      base: teacher.momentumStart,
      final: teacher.momentumEnd,
      epochs: train.epochs,
      itersPerEpoch: iters,
    });
    const rng = createRng(train.seed);
    const state = CarpTrainState.create({
      spec: networkSpec(model),
      partitionSize: model.partitionSize,
      rng,
      momentum: optim.momentum,
      eta: optim.eta,
      regWeight: config.loss.regWeight,
    });
    const backend = currentBackend()?.backend ?? tf.getBackend();
    return {
      config,
      outDir,
      source,
      ownsSource: !o.source,
      loader,
      iters,
      totalSteps: train.epochs * iters,
      lrSchedule,
      momentumSchedule,
      state,
      augmentRng: rng.fork(),
      crops: multiCropSettings(config.crops),
      position: { epoch: 0, iteration: 0, globalStep: 0, optimizerSteps: 0 },
      record: {
        ...createRunRecord({ backend, seed: train.seed, preset: config.preset }),
        data: {
          name: source.name,
          split: source.split,
          count: source.count,
          subset: source.subset ?? null,
          // How the stored pixels were made (e.g. ImageNet's centre-256 squares, §11.33).
          preprocessing: source.preprocessing ?? null,
        },
      },
      metricsPath: join(outDir, 'metrics.jsonl'),
      checkpoints: new RunCheckpoints(outDir, train.checkpointMinutes),
    };
  } catch (e) {
    if (!o.source) await source.close();
    throw e;
  }
}

/** A new run: config, empty metrics log, run record. */
export function startFresh(run: Run): void {
  writeFileAtomic(join(run.outDir, 'config.json'), JSON.stringify(run.config, null, 2) + '\n');
  writeFileAtomic(run.metricsPath, '');
  writeRunRecord(run.outDir, run.record);
}

/** Continues from the latest checkpoint (refusing a changed config). */
export async function resumeRun(run: Run): Promise<void> {
  const path = run.checkpoints.latest;
  const ck = readCheckpoint(path);
  const now = comparableConfig(run.config);
  const then = comparableConfig(ck.meta.config);
  const diff = firstConfigDifference(now, then);
  if (diff) {
    throw new Error(
      `cannot resume: config key '${diff}' is ${JSON.stringify(valueAt(then, diff))} ` +
        `in the checkpoint but ${JSON.stringify(valueAt(now, diff))} now`,
    );
  }
  checkSameData(run, ck.meta.data, path);
  const { state } = run;
  await restoreCheckpoint(ck, { ...state, path });
  const open = accumulatedGradients(ck, state.student);
  if (open) state.gradients.restore(open.sums, open.count);
  state.partitionRng.setState(ck.meta.rngs.partition);
  run.augmentRng.setState(ck.meta.rngs.augment);
  run.position = ck.meta.position;
  truncateMetrics(run.metricsPath, run.position.globalStep);
  const previous = existsSync(join(run.outDir, 'run.json'))
    ? readRunRecord(run.outDir)
    : run.record;
  run.record = {
    ...previous,
    data: run.record.data,
    status: 'running',
    endedAt: null,
    resumes: previous.resumes + 1,
    backend: run.record.backend,
  };
  writeRunRecord(run.outDir, run.record);
}

/**
 * The images must be those the checkpoint trained on: a different count or subset would
 * change every batch after the resume. Checkpoints older than the record are accepted,
 * with a warning when a `limit` applies (older versions took the first N images).
 */
function checkSameData(
  run: Run,
  then: { count: number; subset: unknown } | undefined,
  path: string,
): void {
  const now = { count: run.source.count, subset: run.source.subset ?? null };
  if (then === undefined) {
    if (now.subset !== null) {
      warn(
        `${path} does not record its training images (an older carp-kit, where data.limit took ` +
          `the first N): resuming on the seeded stratified subset, so the data differ from before`,
      );
    }
    return;
  }
  if (JSON.stringify(then) !== JSON.stringify(now)) {
    throw new Error(
      `cannot resume: the checkpoint trained on ${JSON.stringify(then)} but the data now are ` +
        `${JSON.stringify(now)} (the dataset changed on disk?)`,
    );
  }
}

/** Releases the state's tensors and, when the run opened it, the data source. */
export async function disposeRun(run: Run): Promise<void> {
  run.state.dispose();
  if (run.ownsSource) await run.source.close();
}
