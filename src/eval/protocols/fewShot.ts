/**
 * Few-shot evaluation, dispatched on the dataset: PASCAL VOC 2007 linear SVMs (§9.5,
 * `voc2007[-variant]`, and its Fashion-MNIST stand-in on `fashion-mnist`) or iNaturalist
 * 2018 linear classification (§9.6, `inat2018[-variant]`). Any other dataset is an error
 * listing the valid ones.
 */
import type { EvalContext } from '../context';
import type { EvalResult } from '../results';
import { runInatFewShot, type InatFewShotOptions } from './fewShotInat';
import { runVocFewShot, type VocFewShotOptions } from './fewShotVoc';

/** Datasets each few-shot-like protocol accepts (a `-variant` suffix is allowed for prepared folders). */
export const BENCHMARK_DATASETS = {
  fewshot: ['fashion-mnist', 'voc2007', 'inat2018'],
  retrieval: ['fashion-mnist', 'roxford5k', 'rparis6k'],
  copydetection: ['fashion-mnist', 'copydays'],
} as const;

/** The benchmark a dataset name belongs to (`voc2007-difficult0` → `voc2007`), or undefined. */
export function benchmarkOf(
  protocol: keyof typeof BENCHMARK_DATASETS,
  dataset: string,
): string | undefined {
  // Widened to string[]: a union of tuple types has no callable `find` before TypeScript 5.2.
  const benchmarks: readonly string[] = BENCHMARK_DATASETS[protocol];
  return benchmarks.find(
    (b) =>
      dataset === b ||
      (b !== 'fashion-mnist' && protocol !== 'retrieval' && dataset.startsWith(`${b}-`)),
  );
}

export interface FewShotOptions {
  /** VOC07 / proxy options (§9.5). */
  voc?: VocFewShotOptions;
  /** iNat 2018 options (§9.6). */
  inat?: InatFewShotOptions;
}

/** Few-shot on `ctx.dataset`: §9.5 (VOC07 or the proxy) or §9.6 (iNat 2018). */
export async function runFewShot(ctx: EvalContext, o: FewShotOptions = {}): Promise<EvalResult> {
  switch (benchmarkOf('fewshot', ctx.dataset)) {
    case 'fashion-mnist':
    case 'voc2007':
      return runVocFewShot(ctx, o.voc);
    case 'inat2018':
      return runInatFewShot(ctx, o.inat);
    default:
      throw new Error(
        `fewshot has no benchmark for dataset '${ctx.dataset}' (valid: ${BENCHMARK_DATASETS.fewshot.join(', ')})`,
      );
  }
}
