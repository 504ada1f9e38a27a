/**
 * Revisited Oxford 5k / Paris 6k retrieval on the files laid out by
 * `data-scripts/revisited.ts` (spec §9.7): `raw/<dataset>/jpg/<name>.jpg` and the ground
 * truth `raw/<dataset>/gnd_<dataset>.json` (or the official `.pkl`).
 *
 * Per image, batch 1 (sizes differ): decode, Lanczos thumbnail to a longest side ≤ imsize
 * (`retrievalImage`, never upscaling; published commands: 512), to [0, 1] and normalise
 * (the run's statistics — ImageNet's for the paper network and PyTorch files), then the
 * multi-scale descriptor (scales 1, 1/√2, 1/2, mean of the pooled features, L2-normalised;
 * `multiScaleDescriptor`). Queries are full images (no bounding-box crop). Ranking by cosine
 * similarity; mAP for the Medium and Hard protocols (`retrievalEvaluation`). Descriptors are
 * cached like other features, keyed by checkpoint + dataset + imsize (+ scales, statistics).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { tf } from '../../backend/tf';
import type { Tensor4D } from '../../backend/tf';
import { dataRoot } from '../../data/datasets';
import { RETRIEVAL_SCALES, retrievalImage } from '../../data/evalTransforms';
import { decodeImageFile } from '../../data/imageFile';
import { normalizeImages } from '../../data/normalize';
import { readRevisitedGroundTruth, revisitedImagePaths } from '../../data/revisited';
import { Progress } from '../../util/progress';
import { cachedFeatures, type FeatureSet } from '../features';
import {
  multiScaleDescriptor,
  retrievalEvaluation,
  type RetrievalProtocolScore,
} from '../math/ranking';
import type { EvalResult } from '../results';
import { finishResult, requireRaw, teacherInput, type RunnerContext } from '../context';

export const REVISITED_DATASETS = ['roxford5k', 'rparis6k'] as const;

export interface RevisitedOptions {
  /** Longest side after thumbnailing (published commands: 512; script default 224). */
  imsize?: number;
  /** Descriptor scales (spec: 1, 1/√2, 1/2; [1] = single scale). */
  scales?: number[];
}

export interface RevisitedMetrics {
  medium: RetrievalProtocolScore;
  hard: RetrievalProtocolScore;
}

/** Descriptors `[files.length, D]` of image files, one at a time (the next file decodes meanwhile). */
async function describeFiles(
  ctx: RunnerContext,
  files: string[],
  o: Required<RevisitedOptions>,
  label: string,
): Promise<FeatureSet> {
  const { mean, std, inChannels } = teacherInput(ctx.teacher);
  if (inChannels !== 1 && inChannels !== 3)
    throw new Error(`retrieval: the network takes ${inChannels} channels (1 or 3 supported)`);
  const load = (f: string) =>
    decodeImageFile(f, { channels: inChannels }).then((img) => retrievalImage(img, o.imsize));
  const progress = new Progress({ total: files.length, label, itemsPerStep: 1 });
  let out: Float32Array | undefined;
  let dim = 0;
  let next = load(files[0]);
  for (let i = 0; i < files.length; i++) {
    const img = await next;
    if (i + 1 < files.length) next = load(files[i + 1]);
    const d = tf.tidy(() => {
      const x = tf.tensor4d(img.data, [1, img.height, img.width, img.channels], 'int32');
      const xn = normalizeImages(x as Tensor4D, mean, std);
      return multiScaleDescriptor(ctx.teacher.params, ctx.teacher.spec, xn, o.scales);
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

/** Runs §9.7 on `ctx.dataset` (`roxford5k` or `rparis6k`); `limit` keeps the first N queries. */
export async function runRevisitedRetrieval(
  ctx: RunnerContext,
  o: RevisitedOptions = {},
): Promise<EvalResult<RevisitedMetrics>> {
  const t0 = performance.now();
  const opts = { imsize: o.imsize ?? 512, scales: o.scales ?? RETRIEVAL_SCALES };
  if (!Number.isInteger(opts.imsize) || opts.imsize < 1)
    throw new Error(`retrieval: imsize must be a positive integer, got ${opts.imsize}`);
  const raw = join(dataRoot(), 'raw', ctx.dataset);
  const script = 'revisited.ts --which ' + ctx.dataset;
  const json = join(raw, `gnd_${ctx.dataset}.json`);
  const gndFile = existsSync(json) ? json : join(raw, `gnd_${ctx.dataset}.pkl`);
  requireRaw(gndFile, `${ctx.dataset} ground truth`, script);
  const jpg = requireRaw(join(raw, 'jpg'), `${ctx.dataset} images`, script);
  const gt = readRevisitedGroundTruth(gndFile);
  const paths = revisitedImagePaths(gt, jpg);
  const nq = ctx.limit ? Math.min(ctx.limit, paths.queries.length) : paths.queries.length;
  const missing = [...paths.database, ...paths.queries.slice(0, nq)].find((f) => !existsSync(f));
  if (missing) requireRaw(missing, `${ctx.dataset} image`, script);

  const scalesName = opts.scales.map((s) => s.toFixed(4)).join('_');
  const transform = `retrieval-imsize${opts.imsize}-scales${scalesName}-lanczos-${teacherInput(ctx.teacher).name}`;
  const describe = (split: string, files: string[]) =>
    cachedFeatures(
      join(ctx.runDir, 'features'),
      { checkpointId: ctx.teacher.checkpointId, dataset: ctx.dataset, split, transform },
      () => describeFiles(ctx, files, opts, `descriptors ${ctx.dataset}/${split}`),
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
  return finishResult(
    ctx,
    {
      protocol: 'retrieval',
      splits: { database: r.databaseSize, queries: r.numQueries },
      settings: {
        imsize: opts.imsize,
        scales: opts.scales,
        multiScale: opts.scales.length > 1,
        queryCrop: 'none (full images)',
        whitening: 'none',
        dim: database.dim,
      },
      metrics: { medium: r.medium, hard: r.hard },
    },
    t0,
  );
}
