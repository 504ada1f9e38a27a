/**
 * The paper's few-shot, retrieval and copy-detection benchmarks (spec §9.5–§9.8) on data
 * prepared by `data-scripts/`, and one entry per protocol that picks the runner from the
 * dataset name: `fashion-mnist` → the offline proxy (protocols.ts), `voc2007[-variant]` /
 * `inat2018[-variant]` → few-shot, `roxford5k` / `rparis6k` → retrieval, `copydays` →
 * copy detection. Any other name is an error listing the valid ones.
 */
import { runCopyDetectionProxy, runFewShotProxy, runRetrievalProxy } from './knn';
import type { EvalResult } from '../results';
import type { RunnerContext } from '../context';
import { runCopydays, type CopydaysOptions } from './copyDetection';
import { runInatFewShot, type InatFewShotOptions } from './fewShotInat';
import {
  REVISITED_DATASETS,
  runRevisitedRetrieval,
  type RevisitedOptions,
} from './retrieval';
import { runVocFewShot, type VocFewShotOptions } from './fewShotVoc';

export * from './copyDetection';
export * from '../../data/fileSource';
export * from './fewShotInat';
export * from './retrieval';
export * from './fewShotVoc';

/** Datasets each protocol accepts (a `-variant` suffix is allowed for prepared folders). */
export const BENCHMARK_DATASETS = {
  fewshot: ['fashion-mnist', 'voc2007', 'inat2018'],
  retrieval: ['fashion-mnist', ...REVISITED_DATASETS],
  copydetection: ['fashion-mnist', 'copydays'],
} as const;

/** The benchmark a dataset name belongs to (`voc2007-difficult0` → `voc2007`), or undefined. */
export function benchmarkOf(
  protocol: keyof typeof BENCHMARK_DATASETS,
  dataset: string,
): string | undefined {
  return BENCHMARK_DATASETS[protocol].find(
    (b) => dataset === b || (b !== 'fashion-mnist' && dataset.startsWith(`${b}-`)),
  );
}

function unknown(protocol: keyof typeof BENCHMARK_DATASETS, dataset: string): never {
  throw new Error(
    `${protocol} has no benchmark for dataset '${dataset}' (valid: ${BENCHMARK_DATASETS[protocol].join(', ')})`,
  );
}

export interface FewShotOptions {
  /** k values: the VOC07 / proxy low-shot list (default 1, 2, 4, 8, 16); iNat: one k (default 1). */
  shots?: number[];
  /** Runs per k (VOC07 / proxy; spec: 5). */
  runs?: number;
  /** VOC07: full, lowshot or both (default both). */
  mode?: VocFewShotOptions['mode'];
  /** VOC07 low-shot / SVM seed, iNat classifier seed (default 0). */
  seed?: number;
  /** Further iNat settings (subset seed, train split, schedule, epochs, batch size). */
  inat?: Omit<InatFewShotOptions, 'shots' | 'seed'>;
}

/** Few-shot (spec §9.5 VOC07 SVMs, §9.6 iNat linear) or its Fashion-MNIST proxy. */
export async function runFewShot(ctx: RunnerContext, o: FewShotOptions = {}): Promise<EvalResult> {
  switch (benchmarkOf('fewshot', ctx.dataset)) {
    case 'fashion-mnist':
      return runFewShotProxy(ctx, { shots: o.shots, runs: o.runs });
    case 'voc2007':
      return runVocFewShot(ctx, { shots: o.shots, runs: o.runs, mode: o.mode, seed: o.seed });
    case 'inat2018':
      if (o.shots && o.shots.length !== 1)
        throw new Error(`fewshot on ${ctx.dataset}: give one k (shots), got ${o.shots.join(',')}`);
      return runInatFewShot(ctx, { ...o.inat, shots: o.shots?.[0], seed: o.seed });
    default:
      return unknown('fewshot', ctx.dataset);
  }
}

/** Retrieval (spec §9.7, revisited Oxford/Paris) or its Fashion-MNIST proxy. */
export async function runRetrieval(
  ctx: RunnerContext,
  o: RevisitedOptions = {},
): Promise<EvalResult> {
  const b = benchmarkOf('retrieval', ctx.dataset);
  if (b === 'fashion-mnist') return runRetrievalProxy(ctx);
  if (b === undefined || b !== ctx.dataset) return unknown('retrieval', ctx.dataset);
  return runRevisitedRetrieval(ctx, o);
}

/** Copy detection (spec §9.8, Copydays) or its Fashion-MNIST proxy. */
export async function runCopyDetection(
  ctx: RunnerContext,
  o: CopydaysOptions = {},
): Promise<EvalResult> {
  const b = benchmarkOf('copydetection', ctx.dataset);
  if (b === 'fashion-mnist') return runCopyDetectionProxy(ctx);
  if (b === undefined) return unknown('copydetection', ctx.dataset);
  return runCopydays(ctx, o);
}
