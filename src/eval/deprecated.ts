/**
 * Names of the earlier evaluation API, kept working: each forwards to the runner that
 * replaced it (the protocol runners now dispatch on the dataset themselves).
 */
import { plusMinusOneHot } from '../data/proxies/fewShotProxy';
import type { EvalContext } from './context';
import type { FeatureSet } from './features';
import {
  type copyDetectionProxyEvaluation,
  runCopyDetection,
  type CopyDetectionMetrics,
  type CopyDetectionOptions,
} from './protocols/copyDetection';
import {
  type fewShotProxyEvaluation,
  runVocFewShot,
  VOC_FEWSHOT_DEFAULTS,
  vocFewShotMetrics,
  type VocFewShotMetrics,
  type VocFewShotOptions,
} from './protocols/fewShotVoc';
import { withDefaults } from './protocols/record';
import {
  type retrievalProxyEvaluation,
  runRetrieval,
  type RetrievalMetrics,
  type RetrievalOptions,
} from './protocols/retrieval';

/** @deprecated Use `EvalContext`. */
export type ProtocolContext = EvalContext;

function onFashionMnist(ctx: EvalContext, name: string): EvalContext {
  if (ctx.dataset !== 'fashion-mnist')
    throw new Error(`${name} runs the Fashion-MNIST proxy: give dataset 'fashion-mnist'`);
  return ctx;
}

/** @deprecated Use `runVocFewShot` (or `runFewShot`) with dataset `fashion-mnist`. */
export function runFewShotProxy(ctx: EvalContext, o: VocFewShotOptions = {}) {
  return runVocFewShot(onFashionMnist(ctx, 'runFewShotProxy'), o);
}

/** @deprecated Use `runRetrieval` with dataset `fashion-mnist`. */
export function runRetrievalProxy(ctx: EvalContext, o: RetrievalOptions = {}) {
  return runRetrieval(onFashionMnist(ctx, 'runRetrievalProxy'), o);
}

/** @deprecated Use `runCopyDetection` with dataset `fashion-mnist`. */
export function runCopyDetectionProxy(ctx: EvalContext, o: CopyDetectionOptions = {}) {
  return runCopyDetection(onFashionMnist(ctx, 'runCopyDetectionProxy'), o);
}

/** @deprecated Use `runRetrieval` (it dispatches on the dataset). */
export const runRevisitedRetrieval = runRetrieval;

/** @deprecated Use `runCopyDetection` (it dispatches on the dataset). */
export const runCopydays = runCopyDetection;

/** @deprecated Use `RetrievalOptions`. */
export type RevisitedOptions = RetrievalOptions;
/** @deprecated Use `RetrievalMetrics`. */
export type RevisitedMetrics = RetrievalMetrics;
/** @deprecated Use `CopyDetectionOptions`. */
export type CopydaysOptions = CopyDetectionOptions;
/** @deprecated Use `CopyDetectionMetrics`. */
export type CopydaysMetrics = CopyDetectionMetrics;

/** @deprecated Use `VocFewShotMetrics` (its `lowShot`, per k: mAP, std, runs). */
export type FewShotProxyMetrics = Required<Pick<VocFewShotMetrics, 'lowShot'>>;
/** @deprecated Use `CopyDetectionMetrics` (`blocks` per block, `whitened`; topK is a setting). */
export type CopyDetectionProxyMetrics = CopyDetectionMetrics;
/** @deprecated Use the options of `fewShotProxyEvaluation`. */
export type FewShotProxyEvaluationOptions = Parameters<typeof fewShotProxyEvaluation>[0];
/** @deprecated Use the options of `retrievalProxyEvaluation`. */
export type RetrievalProxyEvaluationOptions = Parameters<typeof retrievalProxyEvaluation>[0];
/** @deprecated Use the options of `copyDetectionProxyEvaluation`. */
export type CopyDetectionProxyEvaluationOptions = Parameters<
  typeof copyDetectionProxyEvaluation
>[0];

/** @deprecated Use `vocFewShotMetrics` (low-shot mode) with one-hot ±1 labels. */
export function fewShotProxyFromFeatures(
  train: FeatureSet,
  test: FeatureSet,
  o: { numClasses: number; shots?: number[]; runs?: number; seed?: number },
): Pick<VocFewShotMetrics, 'lowShot'> {
  const classes = Array.from({ length: o.numClasses }, (_, c) => String(c));
  const s = withDefaults('fewshot', VOC_FEWSHOT_DEFAULTS, {
    shots: o.shots,
    runs: o.runs,
    seed: o.seed,
    mode: 'lowshot',
  });
  return vocFewShotMetrics(
    { features: train.features, labels: plusMinusOneHot(train.labels, o.numClasses) },
    { features: test.features, labels: plusMinusOneHot(test.labels, o.numClasses) },
    classes,
    { ...s, dim: train.dim },
  );
}

/** @deprecated Seconds since `t0` (a `performance.now()` reading); compute it inline. */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}
