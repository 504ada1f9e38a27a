/**
 * The last step of every protocol runner: build the typed result (variant, partial flag,
 * weights digest, checkpoint key lists), check it and write it to `<runDir>/eval/`.
 * The settings written are the ones the computation used — the protocol's DEFAULTS
 * merged with the caller's options — so a result file can be re-run from itself.
 */
import { basename, extname } from 'node:path';
import { LATEST_CHECKPOINT } from '../../interop/carpCheckpoint';
import { weightsDigest, type EvalContext } from '../context';
import { createEvalResult, resultVariant, writeEvalResult, type EvalResult } from '../results';

/** Options merged over defaults, refusing keys the protocol does not have. */
export function withDefaults<T extends object>(
  protocol: string,
  defaults: T,
  options: Partial<T> = {},
): T {
  for (const k of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, k))
      throw new Error(
        `${protocol}: unknown option '${k}' (valid: ${Object.keys(defaults).join(', ')})`,
      );
  }
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
  return { ...defaults, ...defined };
}

/** The checkpoint part of the variant: '' for a run's latest checkpoint, else the file stem. */
export function checkpointTag(path: string): string {
  if (path.endsWith(basename(LATEST_CHECKPOINT))) return '';
  return basename(path, extname(path));
}

export interface RecordOptions<M> {
  protocol: string;
  /** Default `ctx.dataset` (proxies name their own benchmark). */
  dataset?: string;
  proxy?: boolean;
  defaults: object;
  settings: object;
  splits: Record<string, number>;
  metrics: M;
  /** `performance.now()` at the start of the evaluation. */
  t0: number;
  /** A partial run on a subset of `limit` images (default `ctx.limit`). */
  limit?: number | null;
}

/** How `limit` chose the images of a protocol (src/data/subset.ts; queries for ranking protocols). */
export function subsetRule(protocol: string, limit: number): string {
  return protocol === 'retrieval' || protocol === 'copydetection'
    ? `the first ${limit} queries`
    : `a seeded class-stratified subset of ${limit} images per split (seed 0; multi-label: seeded random)`;
}

/** Builds, checks and writes the result of a protocol run; returns it. */
export async function recordResult<M>(
  ctx: EvalContext,
  o: RecordOptions<M>,
): Promise<EvalResult<M>> {
  const { teacher } = ctx;
  const limit = o.limit === undefined ? ctx.limit : o.limit;
  // A partial result says in its settings which images it saw (not a default: the
  // variant already carries limit<N>).
  const settings = limit
    ? { ...(o.settings as Record<string, unknown>), subset: subsetRule(o.protocol, limit) }
    : (o.settings as Record<string, unknown>);
  const result = createEvalResult<M>({
    protocol: o.protocol,
    dataset: o.dataset ?? ctx.dataset,
    proxy: o.proxy ?? false,
    variant: resultVariant({
      settings,
      defaults: o.defaults as Record<string, unknown>,
      limit,
      checkpointTag: checkpointTag(teacher.path),
    }),
    partial: !!limit,
    splits: o.splits,
    settings,
    metrics: o.metrics,
    seconds: (performance.now() - o.t0) / 1000,
    checkpoint: teacher.checkpointId,
    weights: await weightsDigest(teacher),
    checkpointKeys: { missing: teacher.missing, unexpected: teacher.unexpected },
  });
  writeEvalResult(ctx.runDir, result as EvalResult);
  return result;
}
