/**
 * Learned prototypes as clusters (spec §9.4, [PAPER-Q + JUDGEMENT]): the full teacher
 * (backbone + head + prototype layer) in evaluation mode; the cluster id of an image is
 * the arg-max over **all** K prototype logits (no partitioning at test time); scored with
 * the §9.3 metrics against the labels, plus prototype usage statistics (how many
 * prototypes are used, the entropy of their usage) that reveal collapse.
 */
import { tf } from '../../backend/tf';
import type { Tensor4D } from '../../backend/tf';
import type { ImageSource } from '../../data/source';
import { multiCropForward, type CarpNetworkSpec } from '../../models/multiCrop';
import type { ParamStore } from '../../models/params';
import { Progress } from '../../util/progress';
import { clusteringMetrics, type ClusteringMetrics } from '../math/clusteringMetrics';
import { defaultFeatureBatch } from '../features';

export interface PrototypeUsage {
  /** Images assigned to each prototype, length K. */
  counts: Int32Array;
  /** Prototypes that received at least one image. */
  used: number;
  unused: number;
  /** Entropy (nats) of the usage distribution; ln K at perfectly uniform use. */
  entropy: number;
  /** entropy / ln K (1 = uniform; 0 = everything on one prototype). */
  normalizedEntropy: number;
}

/** Usage statistics of cluster assignments over K prototypes. */
export function prototypeUsage(
  assignments: ArrayLike<number>,
  numPrototypes: number,
): PrototypeUsage {
  const counts = new Int32Array(numPrototypes);
  for (let i = 0; i < assignments.length; i++) {
    const a = assignments[i];
    if (!(a >= 0 && a < numPrototypes)) {
      throw new Error(`prototypeUsage: assignment ${a} at ${i} outside [0, ${numPrototypes})`);
    }
    counts[a]++;
  }
  let used = 0;
  let entropy = 0;
  const n = assignments.length;
  for (const c of counts) {
    if (c > 0) {
      used++;
      entropy -= (c / n) * Math.log(c / n);
    }
  }
  return {
    counts,
    used,
    unused: numPrototypes - used,
    entropy,
    normalizedEntropy: numPrototypes > 1 ? entropy / Math.log(numPrototypes) : 1,
  };
}

/** Arg-max prototype of every image (teacher in eval mode, spec §9.4). */
export async function assignPrototypes(o: {
  params: ParamStore;
  spec: CarpNetworkSpec;
  source: ImageSource;
  transform: (batch: Tensor4D) => Tensor4D;
  batchSize?: number;
}): Promise<Int32Array> {
  const { source } = o;
  const batchSize =
    o.batchSize ?? defaultFeatureBatch(o.spec.backbone, source.height, source.width);
  const per = source.height * source.width * source.channels;
  const buf = new Uint8Array(batchSize * per);
  const out = new Int32Array(source.count);
  const numBatches = Math.ceil(source.count / batchSize);
  const progress =
    numBatches > 4
      ? new Progress({ total: numBatches, label: 'prototype assignment', itemsPerStep: batchSize })
      : undefined;
  for (let b = 0; b < numBatches; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, source.count - start);
    await source.readImages(
      Int32Array.from({ length: n }, (_, i) => start + i),
      buf,
    );
    const ids = tf.tidy(() => {
      const x = tf.cast(
        tf.tensor4d(
          buf.subarray(0, n * per),
          [n, source.height, source.width, source.channels],
          'int32',
        ),
        'float32',
      ) as Tensor4D;
      return tf.argMax(
        multiCropForward(o.params, o.spec, [o.transform(x)], { training: false }),
        1,
      );
    });
    out.set((await ids.data()) as Int32Array, start);
    ids.dispose();
    progress?.update(b + 1);
  }
  return out;
}

export interface PrototypeClusterResult {
  metrics: ClusteringMetrics;
  usage: PrototypeUsage;
  assignments: Int32Array;
}

/** Prototypes-as-clusters evaluation on a labelled set (spec §9.4). */
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
