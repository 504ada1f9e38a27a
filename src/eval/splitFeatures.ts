/**
 * Features of a dataset split for a protocol: open the split (a seeded class-stratified
 * subset under `ctx.limit`), check that the teacher can honestly be evaluated on it
 * (`checkEvalInput`), run the protocol's transform and cache the result by content
 * (`featureCache.ts`).
 */
import { join } from 'node:path';
import { evalSplits, openDataset } from '../data/datasets';
import type { ResampleFilter } from '../data/resample';
import type { ImageSource } from '../data/source';
import {
  checkEvalInput,
  evalTransform,
  weightsDigest,
  type EvalContext,
  type NamedTransform,
} from './context';
import { cachedFeatures, sourceIdentity } from './featureCache';
import { extractFeatures, type FeatureSet } from './features';
import { info } from '../util/log';

/** Opens `split` of `ctx.dataset` (a subset of `ctx.limit` images when set). */
export async function openEvalSplit(ctx: EvalContext, split: string): Promise<ImageSource> {
  const source = await openDataset(ctx.dataset, split, { limit: ctx.limit });
  const sub = source.subset;
  if (sub)
    info(
      `${ctx.dataset}/${split}: a seeded ${sub.rule} subset of ${sub.count} of ${sub.of} images (seed ${sub.seed}; --limit)`,
    );
  return source;
}

/**
 * Features of `source` through `transform`, cached under `<runDir>/features` by the
 * weights digest, the data's identity (`sourceIdentity`, or `identity` where the caller
 * has a cheaper one, e.g. file names and sizes), `split` and the transform's name.
 */
export async function sourceFeatures(
  ctx: EvalContext,
  source: ImageSource,
  split: string,
  transform: NamedTransform,
  dataset = ctx.dataset,
  identity?: string,
): Promise<FeatureSet> {
  const key = {
    weights: await weightsDigest(ctx.teacher),
    data: identity ?? (await sourceIdentity(source)),
    dataset,
    split,
    transform: transform.name,
  };
  const { cached: _cached, ...set } = await cachedFeatures(join(ctx.runDir, 'features'), key, () =>
    extractFeatures({
      params: ctx.teacher.params,
      spec: ctx.teacher.spec,
      source,
      transform: transform.fn,
      batchSize: ctx.batchSize,
    }),
  );
  return set;
}

/** T-eval features (§9.0, the protocol's `filter`) of one split, with the open source. */
export async function splitFeatures(
  ctx: EvalContext,
  split: string,
  filter: ResampleFilter = 'bicubic',
): Promise<{ set: FeatureSet; source: ImageSource }> {
  const source = await openEvalSplit(ctx, split);
  try {
    checkEvalInput(ctx, source, filter);
    const t = evalTransform(ctx.teacher, { filter, height: source.height, width: source.width });
    return { set: await sourceFeatures(ctx, source, split, t), source };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The bank/query features of a labelled dataset (§9.2 splits) and its class count. */
export async function bankAndQueries(ctx: EvalContext, filter: ResampleFilter = 'bicubic') {
  const names = evalSplits(ctx.dataset);
  const bank = await splitFeatures(ctx, names.bank, filter);
  const queries = await splitFeatures(ctx, names.query, filter);
  await bank.source.close();
  await queries.source.close();
  return {
    bank,
    queries,
    splitNames: names,
    numClasses: Math.max(bank.source.classes.length, queries.source.classes.length),
  };
}
