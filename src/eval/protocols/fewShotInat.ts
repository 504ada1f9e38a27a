/**
 * iNaturalist 2018 few-shot linear classification on the prepared data (spec §9.6):
 * train = `inat2018/train-k<k>-seed<seed>` from `data-scripts/inat2018.ts` (or a full
 * `inat2018/train` prepared otherwise), test = `inat2018/val`, 8 142 classes, T-eval with
 * **bilinear** resize.
 *
 * The k-per-class subset is drawn with a fixed seed [JUDGEMENT, spec §9.6] from the train
 * labels BEFORE extraction (`sampleKPerClass`, the same draw as the data-script's), so only
 * those images go through the network; on a split already prepared with k per class the
 * draw keeps every image. Then `inatLinear` trains the linear classifier on the cached
 * features of those rows (SGD 0.3, momentum 0.9, wd 1e-6, batch 256, 20 epochs,
 * multi-step ×0.1 after 12 and 18) and reports the best val top-1 (and top-5).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataRoot, openDataset } from '../../data/datasets';
import { createRng } from '../../random';
import { inatLinear, sampleKPerClass, type InatScheduleOptions } from '../math/linearClassifier';
import { evalTransform, splitFeatures } from './knn';
import type { EvalResult } from '../results';
import {
  cachedSourceFeatures,
  finishResult,
  requirePrepared,
  subsetSource,
  type RunnerContext,
} from '../context';

export interface InatFewShotOptions extends InatScheduleOptions {
  /** Images per class (spec: 1). */
  shots?: number;
  /** Seed of the subset draw (default 0, as data-scripts/inat2018.ts). */
  subsetSeed?: number;
  /** Train split to draw from (default: `train-k<shots>-seed<subsetSeed>`, else `train`). */
  trainSplit?: string;
  /** Seed of the classifier init and epoch shuffles (default 0). */
  seed?: number;
  batchSize?: number;
}

export interface InatFewShotMetrics {
  top1: number;
  top5: number;
  bestTop5: number;
  bestEpoch: number;
  history: { epoch: number; lr: number; trainLoss: number; top1: number; top5: number }[];
}

function trainSplitOf(dataset: string, shots: number, seed: number, given?: string): string {
  if (given) return given;
  const exact = `train-k${shots}-seed${seed}`;
  if (existsSync(join(dataRoot(), dataset, exact, 'manifest.json'))) return exact;
  if (existsSync(join(dataRoot(), dataset, 'train', 'manifest.json'))) return 'train';
  return exact; // requirePrepared reports it
}

/** Runs §9.6 on the prepared iNat 2018 splits of `ctx.dataset` (e.g. `inat2018`). */
export async function runInatFewShot(
  ctx: RunnerContext,
  o: InatFewShotOptions = {},
): Promise<EvalResult<InatFewShotMetrics>> {
  const t0 = performance.now();
  const shots = o.shots ?? 1;
  const subsetSeed = o.subsetSeed ?? 0;
  if (!Number.isInteger(shots) || shots < 1)
    throw new Error(`runInatFewShot: shots must be a positive integer, got ${shots}`);
  const split = trainSplitOf(ctx.dataset, shots, subsetSeed, o.trainSplit);
  requirePrepared(ctx.dataset, split, `inat2018.ts --k ${shots} --seed ${subsetSeed}`);
  requirePrepared(ctx.dataset, 'val', 'inat2018.ts');

  const full = await openDataset(ctx.dataset, split, { limit: ctx.limit });
  const numClasses = full.classes.length;
  if (full.labelDim !== 1 || numClasses < 2)
    throw new Error(`${ctx.dataset}/${split}: expected single-label data with its class list`);
  const rows = sampleKPerClass(full.labels, numClasses, shots, createRng(subsetSeed)).sort();
  const subsetName = `${ctx.limit ? `${split}-first${ctx.limit}` : split}-k${shots}-seed${subsetSeed}`;
  const source = subsetSource(full, rows, subsetName);
  const t = evalTransform(ctx.teacher, { filter: 'bilinear' });
  const train = await cachedSourceFeatures(ctx, source, subsetName, t);
  await full.close();
  const test = await splitFeatures(ctx, 'val', 'bilinear');
  await test.source.close();
  const schedule: InatScheduleOptions = {
    lr: o.lr ?? 0.3,
    epochs: o.epochs ?? 20,
    schedule: o.schedule ?? 'multistep',
    milestones: o.milestones ?? [12, 18],
    gamma: o.gamma ?? 0.1,
  };
  const r = await inatLinear({
    train,
    test: test.set,
    numClasses: Math.max(numClasses, test.source.classes.length),
    shots: 'all', // the subset was drawn before extraction
    seed: o.seed ?? 0,
    batchSize: o.batchSize ?? 256,
    ...schedule,
  });
  return finishResult(
    ctx,
    {
      protocol: 'fewshot',
      splits: { train: train.count, val: test.set.count, trainPool: full.count },
      settings: {
        shots,
        subsetSeed,
        trainSplit: split,
        seed: o.seed ?? 0,
        batchSize: o.batchSize ?? 256,
        momentum: 0.9,
        weightDecay: 1e-6,
        filter: 'bilinear',
        ...schedule,
      },
      metrics: {
        top1: r.top1,
        top5: r.top5,
        bestTop5: r.bestTop5,
        bestEpoch: r.bestEpoch,
        history: r.history,
      },
    },
    t0,
  );
}
