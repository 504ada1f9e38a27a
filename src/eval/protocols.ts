/**
 * Protocol runners: teacher + dataset name → cached features → one protocol of spec §9 →
 * a typed `EvalResult` written to `<runDir>/eval/<protocol>-<dataset>.json`.
 * The CLI (`carp eval …`), the quickstart and the notebooks call these; the protocol
 * maths lives in the modules they call (knn, linearProbe, kmeans, prototypeClusters …).
 */
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { openDataset } from '../data/datasets';
import { tevalBatch } from '../data/evalTransforms';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImages } from '../data/normalize';
import type { ImageSource } from '../data/source';
import type { LoadedTeacher } from '../train/loadTeacher';
import { cachedFeatures, extractFeatures, type FeatureSet } from './features';
import { kmeansEvaluation } from './kmeans';
import { weightedKnn } from './knn';
import { linearProbe } from './linearProbe';
import { prototypeClusterEvaluation } from './prototypeClusters';
import {
  cachedExtractor,
  copyDetectionProxyEvaluation,
  fewShotProxyEvaluation,
  networkExtractor,
  retrievalProxyEvaluation,
} from './proxies';
import { createEvalResult, writeEvalResult, type EvalResult } from './results';
import type { CarpNetworkSpec } from '../models/multiCrop';

export interface ProtocolContext {
  teacher: LoadedTeacher;
  /** Where results (`eval/`) and the feature cache (`features/`) go. */
  runDir: string;
  /** Dataset name (`fashion-mnist` embedded; others prepared under CARP_DATA_DIR). */
  dataset: string;
  /** Use only the first N images of each split (quick runs); null = all. */
  limit?: number | null;
  batchSize?: number;
}

/**
 * The eval-time input transform (spec §9.0): T-eval — resize the shorter side, centre
 * crop, with the protocol's filter (bicubic for k-NN/linear, bilinear for k-means) —
 * then normalise. For the paper's network and official checkpoints that is 256 → 224.
 * For a carp-kit run the crop is the run's global-crop size (resize = crop·256/224)
 * [JUDGEMENT: T-eval scaled to the training resolution], and images already at that size
 * (Fashion-MNIST at 28 px, CIFAR at 32 px) are only normalised. Normalisation uses the
 * run's statistics (ImageNet's for PyTorch files); grey images are replicated when the
 * network wants RGB.
 */
export function evalTransform(
  teacher: LoadedTeacher,
  o: { filter?: 'bicubic' | 'bilinear' } = {},
): { fn: (x: Tensor4D) => Tensor4D; name: string } {
  const crops = teacher.config?.crops;
  const mean = crops?.mean ?? IMAGENET_MEAN;
  const std = crops?.std ?? IMAGENET_STD;
  const crop = crops?.globalSize ?? 224;
  const resize = Math.round((crop * 256) / 224);
  const { inChannels } = teacher.spec.backbone;
  const filter = o.filter ?? 'bicubic';
  const stats = `${mean.map((m) => m.toFixed(3)).join('_')}-${std.map((v) => v.toFixed(3)).join('_')}`;
  return {
    name: `teval${resize}-${crop}-${filter}-${stats}-c${inChannels}`,
    fn: (x) =>
      tf.tidy(() => {
        const rgb =
          x.shape[3] === 1 && inChannels === 3 ? (tf.tile(x, [1, 1, 1, 3]) as Tensor4D) : x;
        const c = rgb.shape[3];
        const m = mean.length === c ? mean : [mean[0]];
        const s = std.length === c ? std : [std[0]];
        const native = rgb.shape[1] === crop && rgb.shape[2] === crop;
        return native
          ? normalizeImages(rgb, m, s)
          : tevalBatch(rgb, { resize, crop, filter, mean: m, std: s });
      }),
  };
}

/** Features of one split, cached under `<runDir>/features`. */
export async function splitFeatures(
  ctx: ProtocolContext,
  split: string,
  filter: 'bicubic' | 'bilinear' = 'bicubic',
): Promise<{ set: FeatureSet; source: ImageSource }> {
  const source = await openDataset(ctx.dataset, split, { limit: ctx.limit });
  const t = evalTransform(ctx.teacher, { filter });
  const key = {
    checkpointId: ctx.teacher.checkpointId,
    dataset: ctx.dataset,
    split: ctx.limit ? `${split}-first${ctx.limit}` : split,
    transform: t.name,
  };
  const { cached: _c, ...set } = await cachedFeatures(join(ctx.runDir, 'features'), key, () =>
    extractFeatures({
      params: ctx.teacher.params,
      spec: ctx.teacher.spec,
      source,
      transform: t.fn,
      batchSize: ctx.batchSize,
    }),
  );
  return { set, source };
}

/** The (bank, query) splits of a dataset: train/test, or trainval/test where that is the split. */
async function trainTest(ctx: ProtocolContext, filter: 'bicubic' | 'bilinear' = 'bicubic') {
  const train = await splitFeatures(ctx, 'train', filter);
  const test = await splitFeatures(ctx, 'test', filter);
  return {
    train,
    test,
    numClasses: Math.max(train.source.classes.length, test.source.classes.length),
  };
}

function finish<M>(
  ctx: ProtocolContext,
  r: Omit<EvalResult<M>, 'createdAt' | 'checkpoint' | 'proxy' | 'dataset' | 'seconds'>,
  t0: number,
): EvalResult<M> {
  const result = createEvalResult<M>({
    ...r,
    dataset: ctx.dataset,
    proxy: false,
    checkpoint: ctx.teacher.checkpointId,
    seconds: (performance.now() - t0) / 1000,
  });
  writeEvalResult(ctx.runDir, result as EvalResult);
  return result;
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
  return finish(
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

/** Linear probe on frozen features (spec §9.1, adapted: cached centre features). */
export async function runLinear(
  ctx: ProtocolContext,
  o: { epochs?: number; lr?: number; batchSize?: number; eta?: number } = {},
) {
  const t0 = performance.now();
  const { train, test, numClasses } = await trainTest(ctx);
  const settings = {
    epochs: o.epochs ?? 100,
    lr: o.lr ?? 1.0,
    batchSize: o.batchSize ?? 2048,
    eta: o.eta ?? 0.001,
  };
  const r = await linearProbe({ train: train.set, val: test.set, numClasses, ...settings });
  return finish(
    ctx,
    {
      protocol: 'linear',
      splits: { train: train.set.count, test: test.set.count },
      settings,
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
  return finish(
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
  const source = await openDataset(ctx.dataset, 'test', { limit: ctx.limit });
  const r = await prototypeClusterEvaluation({
    params: ctx.teacher.params,
    spec: { backbone, head },
    source,
    transform: evalTransform(ctx.teacher).fn,
    batchSize: ctx.batchSize,
  });
  const { counts, ...usage } = r.usage;
  return finish(
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
