/**
 * Image retrieval (§9.7), revisited Oxford 5k / Paris 6k or the offline Fashion-MNIST
 * stand-in; scores from math/ranking.ts (cosine ranking, Medium/Hard mAP, precision@k).
 *
 * - `roxford5k` / `rparis6k`: the files laid out by data-scripts/revisited.ts
 *   (`raw/<dataset>/jpg/<name>.jpg`, ground truth `raw/<dataset>/gnd_<dataset>.json` or the
 *   official `.pkl`). Per image, batch 1 (sizes differ): decode, Lanczos thumbnail to a
 *   longest side ≤ imsize (never upscaling; published commands: 512), normalise, then the
 *   multi-scale descriptor (scales 1, 1/√2, 1/2, mean of the pooled features,
 *   L2-normalised). Queries are full images (no bounding-box crop). A limit keeps the
 *   first N queries (the ground truth is per query).
 * - `fashion-mnist` → `fmnist-retrieval-proxy` (data/proxies/retrievalProxy.ts): 70
 *   queries and a database from the test split, easy/hard/junk by a model-free rule;
 *   plain pooled features of the 28-px images (T-eval as k-NN).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tf } from '../../backend/tf';
import type { Tensor2D, Tensor4D } from '../../backend/tf';
import type { ImageDataset } from '../../data/dataset';
import { dataRoot } from '../../data/datasets';
import { multiScaleResize, RETRIEVAL_SCALES, retrievalImage } from '../../data/evalTransforms';
import { loadFashionMnist } from '../../data/fashionMnist';
import { decodeImageFile } from '../../data/imageFile';
import { normalizeImages } from '../../data/normalize';
import {
  buildRetrievalProxy,
  FMNIST_JUNK_PAIRS,
  FMNIST_RETRIEVAL_PROXY,
  type RetrievalProxy,
} from '../../data/proxies/retrievalProxy';
import { readRevisitedGroundTruth, revisitedImagePaths } from '../../data/revisited';
import { backboneFeatures, type CarpNetworkSpec } from '../../models/carpNetwork';
import type { ParamStore } from '../../models/params';
import { Progress } from '../../util/progress';
import {
  checkChannels,
  requireRaw,
  teacherInput,
  weightsDigest,
  type EvalContext,
} from '../context';
import { cachedFeatures } from '../featureCache';
import type { FeatureSet } from '../features';
import { contextExtractor, extractChecked, type FeatureExtractor } from '../extractors';
import {
  retrievalEvaluation,
  type RetrievalProtocolScore,
  type RetrievalResult,
} from '../math/ranking';
import type { EvalResult } from '../results';
import { recordResult, withDefaults } from './record';

export const REVISITED_DATASETS = ['roxford5k', 'rparis6k'] as const;

/** §9.7 settings (the published commands); the proxy adds its query count and seed. */
export const RETRIEVAL_DEFAULTS = {
  /** Longest side after thumbnailing (script default 224). */
  imsize: 512,
  /** Descriptor scales ([1] = single scale). */
  scales: RETRIEVAL_SCALES as number[],
  /** Proxy only: queries per class and the seed of its draws. */
  queriesPerClass: 7,
  proxySeed: 0,
};
export type RetrievalOptions = Partial<typeof RETRIEVAL_DEFAULTS>;

export interface RetrievalMetrics {
  medium: RetrievalProtocolScore;
  hard: RetrievalProtocolScore;
}

/** The retrieval result plus the full ranking of every query (database indices, best first). */
export type RetrievalRun = EvalResult<RetrievalMetrics> & {
  ranking: number[][];
  /** The proxy's queries, database and ground truth (on `fashion-mnist`). */
  proxySets?: RetrievalProxy;
};

/** Multi-scale global descriptor `[B, D]`, unit norm, of a normalised batch (§9.7). */
export function multiScaleDescriptor(
  params: ParamStore,
  spec: Pick<CarpNetworkSpec, 'backbone'>,
  x: Tensor4D,
  scales: number[] = RETRIEVAL_SCALES,
): Tensor2D {
  return tf.tidy(() => {
    const resized = multiScaleResize(x, scales);
    const feats = resized.map((r) =>
      backboneFeatures(params, spec, r, { training: false, folded: true }),
    );
    const mean = tf.div(tf.addN(feats), scales.length) as Tensor2D;
    return tf.div(mean, tf.maximum(tf.norm(mean, 'euclidean', 1, true), 1e-12)) as Tensor2D;
  });
}

/** Descriptors `[files.length, D]` of image files, one at a time (the next file decodes meanwhile). */
async function describeFiles(
  ctx: EvalContext,
  files: string[],
  s: typeof RETRIEVAL_DEFAULTS,
  label: string,
): Promise<FeatureSet> {
  const { mean, std, inChannels } = teacherInput(ctx.teacher);
  const load = (f: string) =>
    decodeImageFile(f, { channels: inChannels === 1 ? 1 : 3 }).then((img) =>
      retrievalImage(img, s.imsize),
    );
  const progress = new Progress({ total: files.length, label, itemsPerStep: 1 });
  let out: Float32Array | undefined;
  let dim = 0;
  let next = load(files[0]);
  for (let i = 0; i < files.length; i++) {
    const img = await next;
    if (i + 1 < files.length) next = load(files[i + 1]);
    checkChannels(img.channels, inChannels, files[i]);
    const d = tf.tidy(() => {
      const x = tf.tensor4d(img.data, [1, img.height, img.width, img.channels], 'int32');
      const xn = normalizeImages(x as Tensor4D, mean, std);
      return multiScaleDescriptor(ctx.teacher.params, ctx.teacher.spec, xn, s.scales);
    });
    const v = (await d.data()) as Float32Array;
    d.dispose();
    if (!out) {
      dim = v.length;
      out = new Float32Array(files.length * dim);
    }
    out.set(v, i * dim);
    if (files.length > 4) progress.update(i + 1);
  }
  return {
    features: out!,
    labels: new Int32Array(files.length).fill(-1),
    count: files.length,
    dim,
    labelDim: 1,
  };
}

/** §9.7 on `ctx.dataset` (`roxford5k` or `rparis6k`). */
async function runRevisited(ctx: EvalContext, s: typeof RETRIEVAL_DEFAULTS, t0: number) {
  if (!Number.isInteger(s.imsize) || s.imsize < 1)
    throw new Error(`retrieval: imsize must be a positive integer, got ${s.imsize}`);
  const raw = join(dataRoot(), 'raw', ctx.dataset);
  const script = `revisited.ts --which ${ctx.dataset}`;
  const json = join(raw, `gnd_${ctx.dataset}.json`);
  const gndFile = existsSync(json) ? json : join(raw, `gnd_${ctx.dataset}.pkl`);
  requireRaw(gndFile, `${ctx.dataset} ground truth`, script);
  const jpg = requireRaw(join(raw, 'jpg'), `${ctx.dataset} images`, script);
  const gt = readRevisitedGroundTruth(gndFile);
  const paths = revisitedImagePaths(gt, jpg);
  const nq = ctx.limit ? Math.min(ctx.limit, paths.queries.length) : paths.queries.length;
  const missing = [...paths.database, ...paths.queries.slice(0, nq)].find((f) => !existsSync(f));
  if (missing) requireRaw(missing, `${ctx.dataset} image`, script);

  const scalesName = s.scales.map((x) => x.toFixed(4)).join('_');
  const transform = `retrieval-imsize${s.imsize}-scales${scalesName}-lanczos-${teacherInput(ctx.teacher).name}`;
  const weights = await weightsDigest(ctx.teacher);
  const describe = (split: string, files: string[]) =>
    cachedFeatures(
      join(ctx.runDir, 'features'),
      { weights, data: filesIdentity(files), dataset: ctx.dataset, split, transform },
      () => describeFiles(ctx, files, s, `descriptors ${ctx.dataset}/${split}`),
    );
  const database = await describe('database', paths.database);
  const queries = await describe(
    nq < paths.queries.length ? `queries-first${nq}` : 'queries',
    paths.queries.slice(0, nq),
  );
  const r = retrievalEvaluation({
    queryFeatures: queries.features,
    databaseFeatures: database.features,
    dim: database.dim,
    groundTruth: gt.gnd.slice(0, nq),
  });
  const result = await recordResult(ctx, {
    protocol: 'retrieval',
    defaults: RETRIEVAL_DEFAULTS,
    settings: {
      ...s,
      multiScale: s.scales.length > 1,
      queryCrop: 'none (full images)',
      whitening: 'none',
      dim: database.dim,
    },
    splits: { database: r.databaseSize, queries: r.numQueries },
    metrics: { medium: r.medium, hard: r.hard },
    t0,
  });
  return { ...result, ranking: r.ranking };
}

/** Identity of a list of image files (16 hex digits): their names and byte sizes, in order. */
export function filesIdentity(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(`${basename(f)}:${statSync(f).size}\n`);
  return h.digest('hex').slice(0, 16);
}

/** Builds the proxy, extracts query and database features with `extract`, scores Medium/Hard. */
export async function retrievalProxyEvaluation(
  o: {
    extract: FeatureExtractor;
    databaseCount?: number;
    /** The test split to build from (default: Fashion-MNIST's). */
    test?: ImageDataset;
  } & RetrievalOptions,
): Promise<RetrievalResult & { sets: RetrievalProxy }> {
  const { extract, databaseCount, test, ...options } = o;
  const s = withDefaults('retrieval', RETRIEVAL_DEFAULTS, options);
  const sets = buildRetrievalProxy(test ?? loadFashionMnist('test'), {
    queriesPerClass: s.queriesPerClass,
    seed: s.proxySeed,
    databaseCount,
  });
  const q = await extractChecked(extract, sets.queries, 'the retrieval queries');
  const db = await extractChecked(extract, sets.database, 'the retrieval database');
  if (q.dim !== db.dim)
    throw new Error(`retrieval proxy: query dim ${q.dim} != database dim ${db.dim}`);
  const r = retrievalEvaluation({
    queryFeatures: q.features,
    databaseFeatures: db.features,
    dim: q.dim,
    groundTruth: sets.groundTruth,
  });
  return { ...r, sets };
}

/** The Fashion-MNIST stand-in (`fmnist-retrieval-proxy`). */
async function runProxy(ctx: EvalContext, s: typeof RETRIEVAL_DEFAULTS, t0: number) {
  const extract = contextExtractor(ctx, FMNIST_RETRIEVAL_PROXY);
  const r = await retrievalProxyEvaluation({
    ...s,
    extract,
    databaseCount: ctx.limit ?? undefined,
  });
  const result = await recordResult(ctx, {
    protocol: 'retrieval',
    dataset: FMNIST_RETRIEVAL_PROXY,
    proxy: true,
    defaults: RETRIEVAL_DEFAULTS,
    settings: {
      ...s,
      junkPairs: FMNIST_JUNK_PAIRS,
      easyHard: 'pixel cosine to the query: top half of the positives easy, rest hard',
      descriptor: 'single-scale pooled features (T-eval as k-NN)',
    },
    splits: { queries: r.numQueries, database: r.databaseSize },
    metrics: { medium: r.medium, hard: r.hard },
    t0,
  });
  return { ...result, ranking: r.ranking, proxySets: r.sets };
}

/** Runs §9.7 on revisited Oxford/Paris or on the Fashion-MNIST proxy. */
export async function runRetrieval(
  ctx: EvalContext,
  options: RetrievalOptions = {},
): Promise<RetrievalRun> {
  const t0 = performance.now();
  const s = withDefaults('retrieval', RETRIEVAL_DEFAULTS, options);
  if (ctx.dataset === 'fashion-mnist') return runProxy(ctx, s, t0);
  if (!(REVISITED_DATASETS as readonly string[]).includes(ctx.dataset))
    throw new Error(
      `retrieval has no benchmark for dataset '${ctx.dataset}' (valid: fashion-mnist, ${REVISITED_DATASETS.join(', ')})`,
    );
  return runRevisited(ctx, s, t0);
}
