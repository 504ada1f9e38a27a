/**
 * Protocol runners: teacher + dataset name → cached features → one protocol of spec §9 →
 * a typed `EvalResult` written to `<runDir>/eval/<protocol>-<dataset>.json`.
 * The CLI (`carp eval …`), the quickstart and the notebooks call these; the protocol
 * maths lives in the modules they call (knn, linearProbe, kmeans, prototypeClusters …).
 */
import { join } from 'node:path';
import { evalSplits, openDataset } from '../../data/datasets';
import type { ImageSource } from '../../data/source';
import type { FeatureSet } from '../features';
import { kmeansEvaluation } from '../math/kmeans';
import { weightedKnn } from '../math/knn';
import { linearProbe } from './linear';
import { prototypeClusterEvaluation } from './prototypes';
import {
  cachedExtractor,
  copyDetectionProxyEvaluation,
  fewShotProxyEvaluation,
  networkExtractor,
  retrievalProxyEvaluation,
} from '../proxies';
import { writeEvalResult, type EvalResult } from '../results';
import { augmentSettings, augmentedFeatureBatches } from '../augmentedFeatures';
import {
  cachedSourceFeatures,
  evalTransform,
  finishResult,
  teacherInput,
  type RunnerContext,
} from '../context';
import type { CarpNetworkSpec } from '../../models/multiCrop';

/** Teacher, run directory (results + feature cache), dataset name, optional limit and batch size. */
export type ProtocolContext = RunnerContext;

/** The eval-time input transform (spec §9.0), defined with the other runner helpers. */
export { evalTransform };

/** Features of one split, cached under `<runDir>/features`. */
export async function splitFeatures(
  ctx: ProtocolContext,
  split: string,
  filter: 'bicubic' | 'bilinear' = 'bicubic',
): Promise<{ set: FeatureSet; source: ImageSource }> {
  const source = await openDataset(ctx.dataset, split, { limit: ctx.limit });
  const t = evalTransform(ctx.teacher, { filter });
  const set = await cachedSourceFeatures(
    ctx,
    source,
    ctx.limit ? `${split}-first${ctx.limit}` : split,
    t,
  );
  return { set, source };
}

/** The (bank, query) splits of a dataset: train/test, or trainval/test where that is the split. */
async function trainTest(ctx: ProtocolContext, filter: 'bicubic' | 'bilinear' = 'bicubic') {
  const splits = evalSplits(ctx.dataset);
  const train = await splitFeatures(ctx, splits.bank, filter);
  const test = await splitFeatures(ctx, splits.query, filter);
  return {
    train,
    test,
    numClasses: Math.max(train.source.classes.length, test.source.classes.length),
  };
}

/** Weighted k-NN (spec §9.2): bank = train features, queries = test features. */
export async function runKnn(ctx: ProtocolContext, o: { k?: number[]; temperature?: number } = {}) {
  const t0 = performance.now();
  const { train, test, numClasses } = await trainTest(ctx);
  const k = o.k ?? [10, 20, 100, 200];
  const temperature = o.temperature ?? 0.07;
  const res = weightedKnn({
    trainFeatures: train.set.features,
    trainLabels: train.set.labels,
    testFeatures: test.set.features,
    testLabels: test.set.labels,
    dim: train.set.dim,
    numClasses,
    k,
    temperature,
  });
  const metrics = Object.fromEntries(
    Object.entries(res).map(([kk, v]) => [kk, { top1: v.top1, top5: v.top5 }]),
  );
  return finishResult(
    ctx,
    {
      protocol: 'knn',
      splits: { train: train.set.count, test: test.set.count },
      settings: { k, temperature, dim: train.set.dim },
      metrics,
    },
    t0,
  );
}

/**
 * Linear probe (spec §9.1). Default: trained on cached centre-crop features (adapted);
 * `augment: true` trains on fresh random resized crops + flips through the frozen backbone
 * every batch, as the reference (`augmentedFeatureBatches`). Validation: bicubic T-eval.
 */
export async function runLinear(
  ctx: ProtocolContext,
  o: { epochs?: number; lr?: number; batchSize?: number; eta?: number; augment?: boolean } = {},
) {
  const t0 = performance.now();
  const settings = {
    epochs: o.epochs ?? 100,
    lr: o.lr ?? 1.0,
    batchSize: o.batchSize ?? 2048,
    eta: o.eta ?? 0.001,
  };
  let r;
  let splits;
  let augmentation = {};
  if (o.augment) {
    const names = evalSplits(ctx.dataset);
    const source = await openDataset(ctx.dataset, names.bank, { limit: ctx.limit });
    const test = await splitFeatures(ctx, names.query);
    const input = teacherInput(ctx.teacher);
    const numClasses = Math.max(source.classes.length, test.source.classes.length);
    // With `trainBatches` the probe reads only the labels of `train`: nothing to extract.
    const { labels, count, labelDim } = source;
    const train = { features: new Float32Array(0), labels, count, labelDim, dim: test.set.dim };
    augmentation = { augment: { ...augmentSettings(), size: input.cropSize } };
    const trainBatches = augmentedFeatureBatches({
      params: ctx.teacher.params,
      spec: ctx.teacher.spec,
      source,
      size: input.cropSize,
      mean: input.mean,
      std: input.std,
      batchSize: settings.batchSize,
      forwardBatch: ctx.batchSize,
    });
    r = await linearProbe({ train, val: test.set, numClasses, trainBatches, ...settings });
    splits = { train: source.count, test: test.set.count };
    await source.close();
  } else {
    const { train, test, numClasses } = await trainTest(ctx);
    r = await linearProbe({ train: train.set, val: test.set, numClasses, ...settings });
    splits = { train: train.set.count, test: test.set.count };
  }
  return finishResult(
    ctx,
    {
      protocol: 'linear',
      splits,
      settings: { ...settings, ...augmentation },
      metrics: { top1: r.top1, top5: r.top5, bestEpoch: r.bestEpoch, history: r.history },
    },
    t0,
  );
}

/** k-means clustering evaluation (spec §9.3): k = number of classes unless given. */
export async function runKmeans(
  ctx: ProtocolContext,
  o: { numClusters?: number; seed?: number } = {},
) {
  const t0 = performance.now();
  // Spec §9.3: k-means features use a bilinear resize.
  const { train, test, numClasses } = await trainTest(ctx, 'bilinear');
  const numClusters = o.numClusters ?? numClasses;
  const r = kmeansEvaluation({
    trainFeatures: train.set.features,
    testFeatures: test.set.features,
    dim: train.set.dim,
    numClusters,
    testLabels: test.set.labels,
    seed: o.seed ?? 1234,
  });
  return finishResult(
    ctx,
    {
      protocol: 'kmeans',
      splits: { train: train.set.count, test: test.set.count, trainPointsUsed: r.trainPointsUsed },
      settings: { numClusters, seed: o.seed ?? 1234, niter: 100, nredo: 10, spherical: true },
      metrics: r.metrics,
    },
    t0,
  );
}

/** Prototypes as clusters (spec §9.4) on the test split. */
export async function runPrototypes(ctx: ProtocolContext) {
  const t0 = performance.now();
  const { head, backbone } = ctx.teacher.spec;
  if (!head)
    throw new Error(
      `${ctx.teacher.path} has no CARP head: prototypes-as-clusters needs the prototype layer`,
    );
  // Spec §9.4: the evaluation split (ImageNet val; test elsewhere).
  const source = await openDataset(ctx.dataset, evalSplits(ctx.dataset).query, {
    limit: ctx.limit,
  });
  const r = await prototypeClusterEvaluation({
    params: ctx.teacher.params,
    spec: { backbone, head },
    source,
    transform: evalTransform(ctx.teacher).fn,
    batchSize: ctx.batchSize,
  });
  const { counts, ...usage } = r.usage;
  return finishResult(
    ctx,
    {
      protocol: 'prototypes',
      splits: { test: source.count },
      settings: { numPrototypes: head.numPrototypes },
      metrics: { ...r.metrics, usage, prototypeCounts: Array.from(counts) },
    },
    t0,
  );
}

/** The teacher as a proxy feature extractor, cached under `<runDir>/features`. */
function proxyExtractor(ctx: ProtocolContext) {
  const t = evalTransform(ctx.teacher);
  return cachedExtractor(
    join(ctx.runDir, 'features'),
    ctx.teacher.checkpointId,
    t.name,
    networkExtractor({
      params: ctx.teacher.params,
      spec: ctx.teacher.spec as CarpNetworkSpec,
      transform: t.fn,
      batchSize: ctx.batchSize,
    }),
  );
}

function requireFashionMnist(ctx: ProtocolContext, protocol: string): void {
  if (ctx.dataset !== 'fashion-mnist') {
    throw new Error(
      `${protocol} on '${ctx.dataset}' needs the paper's data (not available offline); the offline proxy runs on --dataset fashion-mnist`,
    );
  }
}

/** Few-shot linear SVMs on the Fashion-MNIST proxy (spec §9.5 rules). */
export async function runFewShotProxy(
  ctx: ProtocolContext,
  o: { shots?: number[]; runs?: number } = {},
) {
  requireFashionMnist(ctx, 'fewshot');
  const r = await fewShotProxyEvaluation({
    extract: proxyExtractor(ctx),
    checkpoint: ctx.teacher.checkpointId,
    ...o,
  });
  writeEvalResult(ctx.runDir, r as EvalResult);
  return r;
}

/** Class-level retrieval with easy/hard/junk ground truth on the Fashion-MNIST proxy (spec §9.7 rules). */
export async function runRetrievalProxy(ctx: ProtocolContext) {
  requireFashionMnist(ctx, 'retrieval');
  const r = await retrievalProxyEvaluation({
    extract: proxyExtractor(ctx),
    checkpoint: ctx.teacher.checkpointId,
  });
  writeEvalResult(ctx.runDir, r as EvalResult);
  return r;
}

/** Copydays-like copy detection on the Fashion-MNIST proxy (spec §9.8 rules). */
export async function runCopyDetectionProxy(
  ctx: ProtocolContext,
  o: { distractors?: number; whiteningCount?: number } = {},
) {
  requireFashionMnist(ctx, 'copydetection');
  const r = await copyDetectionProxyEvaluation({
    extract: proxyExtractor(ctx),
    checkpoint: ctx.teacher.checkpointId,
    ...o,
  });
  writeEvalResult(ctx.runDir, r as EvalResult);
  return r;
}
