/**
 * CARP pretraining loop (§5.3–§5.4, §7): epochs over a data source, schedules per
 * micro-step, multi-crop augmentation, `trainStep`, logs, checkpoints and exact resume.
 *
 * Run directory (architecture §3.4): `config.json`, `run.json`, `metrics.jsonl`,
 * `checkpoints/latest.safetensors` (every epoch) and `checkpoints/epoch-XXXX.safetensors`
 * (0-based epoch index, every `checkpointEvery` epochs and the last, as the reference's
 * `checkpoint%04d.pth`).
 *
 * Resume continues exactly: the checkpoint holds student, teacher (with BN buffers), LARS
 * momentum and step counter, the position, and the states of the partition and
 * augmentation generators; the data order of an epoch is a pure function of (seed, epoch).
 * Training N steps straight or N/2 + resume + N/2 gives the same parameters on the same
 * backend (test/train/trainer.test.ts).
 */
import { firstConfigDifference, valueAt } from '../config/difference';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import { currentBackend } from '../backend/selectBackend';
import { isOptimizerStep, CarpTrainState, trainStep } from '../carp/trainStep';
import { multiCropSettings, networkSpec, scaledLr } from '../config/derived';
import type { CarpConfig } from '../config/schema';
import { writeFileAtomic } from '../util/atomic';
import { openDataset } from '../data/datasets';
import { DataLoader } from '../data/loader';
import { multiCropViews } from '../data/multiCrop';
import type { ImageSource } from '../data/source';
import { cosineSchedule } from '../optim/schedules';
import { createRng } from '../random';
import {
  readCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
  LATEST_CHECKPOINT,
} from '../interop/carpCheckpoint';
export { LATEST_CHECKPOINT };
import { appendMetrics, truncateMetrics, type StepMetrics } from './metricsLog';
import { Progress } from '../util/progress';
import { createRunRecord, readRunRecord, writeRunRecord, type RunRecord } from '../util/runRecord';

export interface PretrainOptions {
  /** The resolved configuration (see `resolveConfig`). */
  config: CarpConfig;
  /** Run directory. */
  outDir: string;
  /** Continue from `outDir/checkpoints/latest.safetensors`. */
  resume?: boolean;
  /**
   * Stop after this many micro-steps in total (rounded up to the next optimiser step, so
   * no accumulated gradient is left unsaved), writing a checkpoint there.
   */
  stopAfterSteps?: number;
  /** Use this source instead of `config.data` (tests, notebooks). */
  source?: ImageSource;
  /** Called after every micro-step with that step's numbers. */
  onStep?: (m: StepMetrics) => void;
  /** Progress line on stderr (default true). */
  progress?: boolean;
}

export interface PretrainResult {
  runDir: string;
  /** Micro-steps completed in total (including before a resume). */
  steps: number;
  totalSteps: number;
  /** Whether all epochs are done. */
  completed: boolean;
  lastMetrics: StepMetrics | null;
  /** Mean images/s over this call's steps (distinct images, not views). */
  imagesPerSecond: number;
  seconds: number;
  checkpoint: string;
}

/** Path of the numbered checkpoint of 0-based epoch `e`. */
export function epochCheckpointName(e: number): string {
  return join('checkpoints', `epoch-${String(e).padStart(4, '0')}.safetensors`);
}

/** Pretrains CARP per `config`, writing the run directory; resumable. */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const { config, outDir } = o;
  const ckptPath = join(outDir, LATEST_CHECKPOINT);
  if (existsSync(ckptPath) && !o.resume) {
    throw new Error(
      `${outDir} already holds a run's checkpoint (${LATEST_CHECKPOINT}); pass --resume or choose another --out`,
    );
  }
  if (o.resume && !existsSync(ckptPath)) throw new Error(`--resume: no checkpoint at ${ckptPath}`);
  mkdirSync(join(outDir, 'checkpoints'), { recursive: true });

  const source =
    o.source ?? (await openDataset(config.data.dataset, 'train', { limit: config.data.limit }));
  const { train, optim, teacher: teacherCfg, model } = config;
  const loader = new DataLoader(source, {
    batchSize: train.batchSize,
    seed: train.seed,
    prefetch: 1,
  });
  const iters = loader.batchesPerEpoch;
  const totalSteps = train.epochs * iters;
  // Schedules per micro-step (§5.3): lr scaled by A·B/256, floor unscaled; wd constant.
  const lrSchedule = cosineSchedule({
    base: scaledLr(optim, train),
    final: optim.minLr,
    epochs: train.epochs,
    itersPerEpoch: iters,
    warmupEpochs: optim.warmupEpochs,
  });
  const momentumSchedule = cosineSchedule({
    base: teacherCfg.momentumStart,
    final: teacherCfg.momentumEnd,
    epochs: train.epochs,
    itersPerEpoch: iters,
  });

  const spec = networkSpec(model);
  const rng = createRng(train.seed);
  const state = CarpTrainState.create({
    spec,
    partitionSize: model.partitionSize,
    rng,
    momentum: optim.momentum,
    eta: optim.eta,
  });
  const augmentRng = rng.fork();
  const crops = multiCropSettings(config.crops);
  let position: TrainingPosition = { epoch: 0, iteration: 0, globalStep: 0, optimizerSteps: 0 };
  let record: RunRecord;
  const metricsPath = join(outDir, 'metrics.jsonl');
  const backend = currentBackend()?.backend ?? tf.getBackend();

  try {
    if (o.resume) {
      const ck = readCheckpoint(ckptPath);
      const diff = firstConfigDifference(config, ck.meta.config);
      if (diff) {
        throw new Error(
          `cannot resume: config key '${diff}' is ${JSON.stringify(valueAt(ck.meta.config, diff))} ` +
            `in the checkpoint but ${JSON.stringify(valueAt(config, diff))} now`,
        );
      }
      await restoreCheckpoint(ck, {
        student: state.student,
        teacher: state.teacher,
        optimizer: state.optimizer,
        path: ckptPath,
      });
      state.partitionRng.setState(ck.meta.rngs.partition);
      augmentRng.setState(ck.meta.rngs.augment);
      position = ck.meta.position;
      truncateMetrics(metricsPath, position.globalStep);
      record = existsSync(join(outDir, 'run.json'))
        ? readRunRecord(outDir)
        : createRunRecord({ backend, seed: train.seed, preset: config.preset });
      record = {
        ...record,
        status: 'running',
        endedAt: null,
        resumes: record.resumes + 1,
        backend,
      };
    } else {
      record = createRunRecord({ backend, seed: train.seed, preset: config.preset });
      writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
      writeFileAtomic(metricsPath, '');
    }
    writeRunRecord(outDir, record);

    const save = async (pos: TrainingPosition, extra?: string) => {
      const payload = {
        student: state.student,
        teacher: state.teacher,
        optimizer: state.optimizer,
        position: pos,
        rngs: { partition: state.partitionRng.getState(), augment: augmentRng.getState() },
        config,
      };
      await saveCheckpoint(ckptPath, payload);
      if (extra) await saveCheckpoint(join(outDir, extra), payload);
    };

    const stopAt = Math.min(totalSteps, o.stopAfterSteps ?? totalSteps);
    const progress =
      o.progress === false
        ? undefined
        : new Progress({
            total: totalSteps,
            label: `pretrain ${config.preset}`,
            itemsPerStep: train.batchSize,
          });
    progress?.resumeAt(position.globalStep);
    const t0 = performance.now();
    let lastLogTime = t0;
    let lastLogStep = position.globalStep;
    let lastMetrics: StepMetrics | null = null;
    const startStep = position.globalStep;
    let step = position.globalStep;

    if (step < totalSteps) {
      const batches = loader.batches({
        epoch: position.epoch,
        step: position.iteration,
        endEpoch: train.epochs,
      });
      for await (const batch of batches) {
        const i = batch.step;
        const optimizerStep = isOptimizerStep(i, train.accumulation, iters);
        // The raw uint8 batch goes in as is: no int32 tensor copy, and the augmentation
        // engine (CPU loops on wasm/cpu, batched ops elsewhere) reads it directly.
        const views = multiCropViews(
          { data: batch.images, shape: [batch.size, batch.height, batch.width, batch.channels] },
          crops,
          augmentRng,
        );
        let r;
        try {
          r = await trainStep(state, views, {
            step,
            learningRate: lrSchedule[step],
            weightDecay: optim.weightDecay,
            teacherMomentum: momentumSchedule[step],
            accumulation: train.accumulation,
            optimizerStep,
          });
        } finally {
          tf.dispose(views);
        }
        step++;
        const now = performance.now();
        const m: StepMetrics = {
          step: step - 1,
          epoch: batch.epoch,
          loss: r.loss,
          consistency: r.consistency,
          entropy: r.entropy,
          lr: lrSchedule[step - 1],
          wd: optim.weightDecay,
          momentum: momentumSchedule[step - 1],
          top1: r.top1,
          top5: r.top5,
          imagesPerSecond: ((step - lastLogStep) * train.batchSize) / ((now - lastLogTime) / 1000),
          elapsed: (now - t0) / 1000,
        };
        lastMetrics = m;
        o.onStep?.(m);
        if ((step - 1) % train.logEvery === 0 || step === totalSteps) {
          appendMetrics(metricsPath, m);
          lastLogTime = now;
          lastLogStep = step;
        }
        progress?.update(step, { loss: r.loss });
        // Where the run stands now: the next micro-step to execute.
        const endOfEpoch = i === iters - 1;
        position = {
          epoch: endOfEpoch ? batch.epoch + 1 : batch.epoch,
          iteration: endOfEpoch ? 0 : i + 1,
          globalStep: step,
          optimizerSteps: position.optimizerSteps + (optimizerStep ? 1 : 0),
        };
        const stopping = step >= stopAt && optimizerStep;
        if (endOfEpoch) {
          const numbered =
            (batch.epoch + 1) % train.checkpointEvery === 0 || batch.epoch === train.epochs - 1;
          await save(position, numbered ? epochCheckpointName(batch.epoch) : undefined);
        } else if (stopping) {
          await save(position);
        }
        if (stopping) break;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const completed = step >= totalSteps;
    record = {
      ...record,
      status: completed ? 'completed' : 'running',
      endedAt: new Date().toISOString(),
    };
    writeRunRecord(outDir, record);
    return {
      runDir: outDir,
      steps: step,
      totalSteps,
      completed,
      lastMetrics,
      imagesPerSecond: seconds > 0 ? ((step - startStep) * train.batchSize) / seconds : 0,
      seconds,
      checkpoint: ckptPath,
    };
  } catch (e) {
    if (existsSync(join(outDir, 'run.json'))) {
      const failed = JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8')) as RunRecord;
      writeRunRecord(outDir, { ...failed, status: 'failed', endedAt: new Date().toISOString() });
    }
    throw e;
  } finally {
    state.dispose();
    if (!o.source) await source.close();
  }
}
