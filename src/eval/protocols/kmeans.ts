/**
 * k-means clustering evaluation (§9.3): raw pooled features (bilinear T-eval), standardised
 * with statistics of the fit split, spherical k-means with faiss semantics, each test
 * point assigned to its nearest centroid, scored against the labels (NMI, AMI, ARI, FMS,
 * homogeneity, completeness, V-measure, Hungarian accuracy). The maths is
 * math/kmeans.ts and math/clusteringMetrics.ts.
 *
 * The fit split: ImageNet clusters its 10 % labelled subset (SimCLR's list, prepared as
 * `imagenet/train10percent` by data-scripts/imagenet.ts --subset 10percent.txt), every
 * other dataset its training split. The cluster count defaults to the number of classes;
 * the reference's GTSRB script uses 100 (43 classes), which `numClusters` reproduces.
 */
import { info } from '../../util/log';
import { evalSplits } from '../../data/datasets';
import type { EvalContext } from '../context';
import { kmeansEvaluation } from '../math/kmeans';
import type { ClusteringMetrics } from '../math/clusteringMetrics';
import type { EvalResult } from '../results';
import { splitFeatures } from '../splitFeatures';
import { recordResult, withDefaults } from './record';

/** §9.3 settings; `fitSplit` and `numClusters` null mean "per dataset" (see the header). */
export const KMEANS_DEFAULTS = {
  numClusters: null as number | null,
  fitSplit: null as string | null,
  niter: 100,
  nredo: 10,
  seed: 1234,
  maxPointsPerCentroid: 256,
  filter: 'bilinear' as const,
};
export type KmeansOptions = Partial<typeof KMEANS_DEFAULTS>;

/** The split k-means is fitted on by default: ImageNet's 10 % subset, else the bank split. */
export function defaultFitSplit(dataset: string): string {
  return /^imagenet($|-)/.test(dataset) ? 'train10percent' : evalSplits(dataset).bank;
}

export type KmeansMetrics = ClusteringMetrics & { objective: number };

/** Runs §9.3 on `ctx.dataset` and writes `eval/kmeans-<dataset>….json`. */
export async function runKmeans(
  ctx: EvalContext,
  options: KmeansOptions = {},
): Promise<EvalResult<KmeansMetrics> & { assignments: Int32Array }> {
  const t0 = performance.now();
  const s = withDefaults('kmeans', KMEANS_DEFAULTS, options);
  const fitSplit = s.fitSplit ?? defaultFitSplit(ctx.dataset);
  const testSplit = evalSplits(ctx.dataset).query;
  const fit = await splitFeatures(ctx, fitSplit, s.filter);
  await fit.source.close();
  const test = await splitFeatures(ctx, testSplit, s.filter);
  await test.source.close();
  const numClasses = test.source.classes.length;
  const numClusters = s.numClusters ?? numClasses;
  // One synchronous faiss call (its redo seeds are internal, so it cannot be split into
  // steps without changing the result): a line before and after instead of a progress bar.
  info(
    `kmeans ${ctx.dataset}: clustering ${fit.set.count} features into ${numClusters} centroids ` +
      `(${s.nredo} runs × ${s.niter} iterations)…`,
  );
  const tk = performance.now();
  const r = kmeansEvaluation({
    trainFeatures: fit.set.features,
    testFeatures: test.set.features,
    dim: fit.set.dim,
    numClusters,
    testLabels: test.set.labels,
    niter: s.niter,
    nredo: s.nredo,
    seed: s.seed,
    maxPointsPerCentroid: s.maxPointsPerCentroid,
  });
  info(`kmeans ${ctx.dataset}: done in ${((performance.now() - tk) / 1000).toFixed(1)} s`);
  const result = await recordResult(ctx, {
    protocol: 'kmeans',
    defaults: KMEANS_DEFAULTS,
    settings: { ...s, resolved: { numClusters, fitSplit }, spherical: true, dim: fit.set.dim },
    splits: {
      [fitSplit]: fit.set.count,
      [testSplit]: test.set.count,
      fitPointsUsed: r.trainPointsUsed,
    },
    metrics: { ...r.metrics!, objective: r.objective },
    t0,
  });
  return { ...result, assignments: r.assignments };
}
