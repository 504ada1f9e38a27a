/**
 * Learned prototypes as clusters (§9.4; the paper evaluates them, its code does not — our
 * reading is a judgement call, §11.11): the full teacher (backbone + head + prototype layer)
 * in evaluation mode on the evaluation split; the cluster of an image is the arg-max over
 * **all** K prototype logits (no partition at test time); scored with the §9.3 metrics
 * against the labels, plus the usage statistics of math/prototypeUsage.ts.
 */
import { tf } from '../../backend/tf';
import type { Tensor4D } from '../../backend/tf';
import { evalSplits } from '../../data/datasets';
import type { ImageSource } from '../../data/source';
import { multiCropForward, type CarpNetworkSpec } from '../../models/carpNetwork';
import type { ParamStore } from '../../models/params';
import { checkEvalInput, evalTransform, type EvalContext } from '../context';
import { defaultFeatureBatch, mapBatches } from '../features';
import { clusteringMetrics, type ClusteringMetrics } from '../math/clusteringMetrics';
import { prototypeUsage, type PrototypeUsage } from '../math/prototypeUsage';
import type { EvalResult } from '../results';
import { openEvalSplit } from '../splitFeatures';
import { recordResult, withDefaults } from './record';

/** §9.4 settings: T-eval as k-NN (bicubic), the evaluation split. */
export const PROTOTYPES_DEFAULTS = { filter: 'bicubic' as const };
export type PrototypesOptions = Partial<typeof PROTOTYPES_DEFAULTS>;

/** Arg-max prototype of every image (teacher in eval mode, §9.4). */
export async function assignPrototypes(o: {
  params: ParamStore;
  spec: CarpNetworkSpec;
  source: ImageSource;
  transform: (batch: Tensor4D) => Tensor4D;
  batchSize?: number;
}): Promise<Int32Array> {
  const { source } = o;
  const { rows } = await mapBatches(
    source,
    o.batchSize ?? defaultFeatureBatch(o.spec.backbone, source.height, source.width),
    (x) => {
      const logits = multiCropForward(o.params, o.spec, [o.transform(x)], { training: false });
      // [n, 1] so the batch mapper collects one value per image.
      return tf.expandDims(tf.cast(tf.argMax(logits, 1), 'float32'), 1) as tf.Tensor2D;
    },
    { label: 'prototype assignment' },
  );
  return Int32Array.from(rows);
}

export interface PrototypeClusterResult {
  metrics: ClusteringMetrics;
  usage: PrototypeUsage;
  assignments: Int32Array;
}

/** Prototypes as clusters on a labelled source (§9.4), without writing a result. */
export async function prototypeClusterEvaluation(
  o: Parameters<typeof assignPrototypes>[0],
): Promise<PrototypeClusterResult> {
  if (o.source.labelDim !== 1)
    throw new Error('prototypeClusterEvaluation: needs single-label data');
  const assignments = await assignPrototypes(o);
  return {
    metrics: clusteringMetrics(o.source.labels, assignments),
    usage: prototypeUsage(assignments, o.spec.head.numPrototypes),
    assignments,
  };
}

export type PrototypesMetrics = ClusteringMetrics & {
  usage: Omit<PrototypeUsage, 'counts'>;
  prototypeCounts: number[];
};

/** Runs §9.4 on `ctx.dataset` and writes `eval/prototypes-<dataset>….json`. */
export async function runPrototypes(
  ctx: EvalContext,
  options: PrototypesOptions = {},
): Promise<EvalResult<PrototypesMetrics> & { assignments: Int32Array }> {
  const t0 = performance.now();
  const s = withDefaults('prototypes', PROTOTYPES_DEFAULTS, options);
  const { head, backbone } = ctx.teacher.spec;
  if (!head)
    throw new Error(
      `${ctx.teacher.path} has no CARP head: prototypes-as-clusters needs the prototype layer`,
    );
  const split = evalSplits(ctx.dataset).query;
  const source = await openEvalSplit(ctx, split);
  try {
    if (source.labelDim !== 1)
      throw new Error(`prototypes: ${ctx.dataset}/${split} must be single-label`);
    checkEvalInput(ctx, source, s.filter);
    const transform = evalTransform(ctx.teacher, {
      filter: s.filter,
      height: source.height,
      width: source.width,
    });
    const assignments = await assignPrototypes({
      params: ctx.teacher.params,
      spec: { backbone, head },
      source,
      transform: transform.fn,
      batchSize: ctx.batchSize,
    });
    const { counts, ...usage } = prototypeUsage(assignments, head.numPrototypes);
    const result = await recordResult(ctx, {
      protocol: 'prototypes',
      defaults: PROTOTYPES_DEFAULTS,
      settings: { ...s, numPrototypes: head.numPrototypes, transform: transform.name },
      splits: { [split]: source.count },
      metrics: {
        ...clusteringMetrics(source.labels, assignments),
        usage,
        prototypeCounts: Array.from(counts),
      },
      t0,
    });
    return { ...result, assignments };
  } finally {
    await source.close();
  }
}
