/**
 * CARP pretraining loop (§5.3–§5.4, §7): epochs over a data source, schedules per
 * micro-step, multi-crop augmentation, `trainStep`, logs, checkpoints and exact resume.
 *
 * Run directory: `config.json`, `run.json`, `metrics.jsonl`, `run.lock` while a trainer
 * holds it, and `checkpoints/` (see runCheckpoints.ts: latest, numbered epochs, and
 * mid-epoch step checkpoints every `train.checkpointMinutes`).
 *
 * Resume continues exactly, also mid-epoch: the checkpoint holds student, teacher (with BN
 * buffers), LARS momentum and step counter, the gradient sums of an open accumulation
 * group, the position, and the states of the partition and augmentation generators; the
 * data order of an epoch is a pure function of (seed, epoch). A run killed at any moment
 * and resumed logs the same losses, step for step, as one never interrupted
 * (test/train/trainerKill.test.ts).
 *
 * With `handleSignals`, SIGINT/SIGTERM finish the current micro-step, save a checkpoint
 * and return with `interrupted` set (the CLI exits 130/143 and says how to resume).
 */
import { existsSync } from 'node:fs';
import { tf } from '../backend/tf';
import { isOptimizerStep, trainStep, type StepResult } from '../carp/trainStep';
import type { CarpConfig } from '../config/schema';
import type { Batch } from '../data/loader';
import { multiCropViews } from '../data/multiCropViews';
import type { ImageSource } from '../data/source';
import { encodeCheckpoint, LATEST_CHECKPOINT } from '../interop/carpCheckpoint';
import { Progress } from '../util/progress';
import { readRunRecord, writeRunRecord, type RunRecord } from '../util/runRecord';
import { warn } from '../util/warn';
import { MetricsWriter, type StepMetrics } from './metricsLog';
import { epochCheckpointName, stepCheckpointName } from './runCheckpoints';
import { acquireRunLock } from './runLock';
import { createRun, disposeRun, resumeRun, startFresh, type Run } from './runSetup';
import { listenForStop, type StopListener, type StopSignal } from './stopSignals';

export { LATEST_CHECKPOINT, epochCheckpointName, stepCheckpointName };

export interface PretrainOptions {
  /** The resolved configuration (see `resolveConfig`). */
  config: CarpConfig;
  /** Run directory. */
  outDir: string;
  /** Continue from `outDir/checkpoints/latest.safetensors`. */
  resume?: boolean;
  /**
   * Stop after this many micro-steps in total (rounded up to the next optimiser step),
   * writing a checkpoint there.
   */
  stopAfterSteps?: number;
  /** Use this source instead of `config.data` (tests, notebooks). */
  source?: ImageSource;
  /** Called after every micro-step with that step's numbers. */
  onStep?: (m: StepMetrics) => void;
  /** Progress line on stderr (default true). */
  progress?: boolean;
  /** Stop gracefully on SIGINT/SIGTERM (default false; the CLI turns it on). */
  handleSignals?: boolean;
  /** Stop gracefully (after the current micro-step, with a checkpoint) when aborted. */
  stopSignal?: AbortSignal;
}

export interface PretrainResult {
  runDir: string;
  /** Micro-steps completed in total (including before a resume). */
  steps: number;
  totalSteps: number;
  /** Whether all epochs are done. */
  completed: boolean;
  /** The signal that stopped the run early (a checkpoint was saved first). */
  interrupted: StopSignal | null;
  lastMetrics: StepMetrics | null;
  /** Mean images/s over this call's steps (distinct images, not views). */
  imagesPerSecond: number;
  seconds: number;
  /** The checkpoint to resume from. */
  checkpoint: string;
}

/** Pretrains CARP per `config`, writing the run directory; resumable. */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const lock = acquireRunLock(o.outDir);
  try {
    const ckptPath = `${o.outDir}/${LATEST_CHECKPOINT}`;
    if (existsSync(ckptPath) && !o.resume) {
      throw new Error(
        `${o.outDir} already holds a run's checkpoint (${LATEST_CHECKPOINT}); pass --resume or choose another --out`,
      );
    }
    if (o.resume && !existsSync(ckptPath))
      throw new Error(`--resume: no checkpoint at ${ckptPath}`);
    const run = await createRun(o);
    try {
      if (o.resume) await resumeRun(run);
      else startFresh(run);
      return await trainAndFinish(run, o);
    } catch (e) {
      markFailed(run);
      throw e;
    } finally {
      await disposeRun(run);
    }
  } finally {
    lock.release();
  }
}

async function trainAndFinish(run: Run, o: PretrainOptions): Promise<PretrainResult> {
  const startStep = run.position.globalStep;
  const t0 = performance.now();
  const stop = listenForStop(
    o.handleSignals === true,
    () => `${run.position.globalStep} done so far`,
    o.stopSignal,
  );
  let loop: LoopOutcome;
  try {
    loop = await epochLoop(run, o, stop);
  } finally {
    stop.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const step = run.position.globalStep;
  const completed = step >= run.totalSteps;
  run.record = {
    ...run.record,
    status: completed ? 'completed' : loop.interrupted ? 'interrupted' : 'running',
    endedAt: new Date().toISOString(),
  };
  writeRunRecord(run.outDir, run.record);
  return {
    runDir: run.outDir,
    steps: step,
    totalSteps: run.totalSteps,
    completed,
    interrupted: loop.interrupted,
    lastMetrics: loop.lastMetrics,
    imagesPerSecond: seconds > 0 ? ((step - startStep) * run.config.train.batchSize) / seconds : 0,
    seconds,
    checkpoint: run.checkpoints.latest,
  };
}

interface LoopOutcome {
  lastMetrics: StepMetrics | null;
  interrupted: StopSignal | null;
}

/** Micro-steps from the run's position to the end, a stop request or `stopAfterSteps`. */
async function epochLoop(run: Run, o: PretrainOptions, stop: StopListener): Promise<LoopOutcome> {
  const { train } = run.config;
  const stopAt = Math.min(run.totalSteps, o.stopAfterSteps ?? run.totalSteps);
  const progress =
    o.progress === false
      ? undefined
      : new Progress({
          total: run.totalSteps,
          label: `pretrain ${run.config.preset}`,
          itemsPerStep: train.batchSize,
        });
  progress?.resumeAt(run.position.globalStep);
  const log = new MetricsWriter(run, o.onStep);
  if (run.position.globalStep >= run.totalSteps) return { lastMetrics: null, interrupted: null };
  const batches = run.loader.batches({
    epoch: run.position.epoch,
    step: run.position.iteration,
    endEpoch: train.epochs,
  });
  for await (const batch of batches) {
    const optimizerStep = isOptimizerStep(batch.step, train.accumulation, run.iters);
    const r = await microStep(run, batch, optimizerStep);
    log.write(r, batch);
    progress?.update(run.position.globalStep + 1, { loss: r.loss });
    advance(run, batch, optimizerStep);
    const stopping = run.position.globalStep >= stopAt && optimizerStep;
    // One turn of the event loop per micro-step: with in-memory data and the wasm backend
    // every await above settles as a microtask, and signal handlers (like timers and I/O
    // callbacks) only run when the loop turns.
    await new Promise((resolve) => setImmediate(resolve));
    await checkpointIfDue(run, batch, { stopping, interrupted: stop.signal !== null });
    if (stopping || stop.signal !== null) break;
  }
  return { lastMetrics: log.last, interrupted: stop.signal };
}

/** Augments the batch and runs one `trainStep` at the run's position. */
async function microStep(run: Run, batch: Batch, optimizerStep: boolean): Promise<StepResult> {
  const { train, optim } = run.config;
  const t = run.position.globalStep;
  // The raw uint8 batch goes in as is: no int32 tensor copy, and the augmentation
  // engine (CPU loops on wasm/cpu, batched ops elsewhere) reads it directly.
  const views = multiCropViews(
    { data: batch.images, shape: [batch.size, batch.height, batch.width, batch.channels] },
    run.crops,
    run.augmentRng,
  );
  try {
    return await trainStep(run.state, views, {
      step: t,
      learningRate: run.lrSchedule[t],
      weightDecay: optim.weightDecay,
      teacherMomentum: run.momentumSchedule[t],
      accumulation: train.accumulation,
      optimizerStep,
    });
  } finally {
    tf.dispose(views);
  }
}

/** Moves the position past the micro-step just taken (the next one to execute). */
function advance(run: Run, batch: Batch, optimizerStep: boolean): void {
  const endOfEpoch = batch.step === run.iters - 1;
  const p = run.position;
  run.position = {
    epoch: endOfEpoch ? batch.epoch + 1 : batch.epoch,
    iteration: endOfEpoch ? 0 : batch.step + 1,
    globalStep: p.globalStep + 1,
    optimizerSteps: p.optimizerSteps + (optimizerStep ? 1 : 0),
  };
}

/** Epoch ends, due mid-epoch saves, `stopAfterSteps` and stop requests write a checkpoint. */
async function checkpointIfDue(
  run: Run,
  batch: Batch,
  why: { stopping: boolean; interrupted: boolean },
): Promise<void> {
  const { train } = run.config;
  const endOfEpoch = batch.step === run.iters - 1;
  const midEpoch = !endOfEpoch && (why.interrupted || run.checkpoints.due());
  if (!endOfEpoch && !midEpoch && !why.stopping) return;
  const bytes = await encodeCheckpoint({
    ...run.state,
    position: run.position,
    rngs: { partition: run.state.partitionRng.getState(), augment: run.augmentRng.getState() },
    config: run.config,
    accumulated: { sums: run.state.gradients.entries(), count: run.state.gradients.count },
    data: { count: run.source.count, subset: run.source.subset ?? null },
  });
  if (endOfEpoch) {
    const numbered =
      (batch.epoch + 1) % train.checkpointEvery === 0 || batch.epoch === train.epochs - 1;
    run.checkpoints.saveEpoch(bytes, batch.epoch, numbered);
  } else if (midEpoch) {
    run.checkpoints.saveStep(bytes, run.position.globalStep);
  } else {
    run.checkpoints.saveLatest(bytes);
  }
}

/**
 * Marks the run record failed. Never throws: a record that cannot be read or written
 * must not hide the training error being propagated (it is reported as a warning).
 */
function markFailed(run: Run): void {
  try {
    let record: RunRecord = run.record;
    if (existsSync(`${run.outDir}/run.json`)) {
      try {
        record = readRunRecord(run.outDir);
      } catch (e) {
        warn(`${(e as Error).message} (left as it is; the run's status is not updated)`);
        return;
      }
    }
    writeRunRecord(run.outDir, { ...record, status: 'failed', endedAt: new Date().toISOString() });
  } catch (e) {
    warn(`could not mark ${run.outDir}/run.json as failed: ${(e as Error).message}`);
  }
}
