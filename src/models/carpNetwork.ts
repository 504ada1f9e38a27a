/**
 * The multi-crop wrapper: backbone + head over an ordered list of views (§2.3).
 *
 * views: V tensors `[B, H_v, W_v, C]` (global A, global B, then locals) → logits
 * `[V·B, K]`, view-major (rows vB … vB+B−1 belong to view v).
 * 1. Consecutive views with the same last spatial size (W) form a group;
 * 2. each group is concatenated along the batch axis and run through the backbone once,
 *    so backbone BN statistics are per resolution group;
 * 3. the group features are concatenated in order and the head runs ONCE on all V·B rows,
 *    so head BN statistics mix global and local views — exactly the reference's batching.
 *
 * A network's parameters live in one `ParamStore` with the reference wrapper's prefixes
 * `backbone.` and `head.` (checkpoint key = `module.` + our name, §8).
 */
import { tf } from '../backend/tf';
import type { Tensor2D, Tensor4D } from '../backend/tf';
import type { Rng } from '../random';
import { carpHeadForward, initCarpHead, type HeadSpec } from './carpHead';
import type { ForwardOptions } from './layers';
import { ParamStore } from './params';
import { initResNet, resnetFeatureDim, resnetForward, type ResNetSpec } from './resnet';

export interface CarpNetworkSpec {
  backbone: ResNetSpec;
  /** `inDim` must equal the backbone's feature width. */
  head: HeadSpec;
}

/** Builds a spec whose head input matches the backbone (hidden/bottleneck/K from the caller). */
export function carpNetworkSpec(
  backbone: ResNetSpec,
  head: Omit<HeadSpec, 'inDim'>,
): CarpNetworkSpec {
  return { backbone, head: { ...head, inDim: resnetFeatureDim(backbone) } };
}

/** Creates and initialises a network's parameters (backbone first, then head, as in the reference). */
export function createCarpParams(
  spec: CarpNetworkSpec,
  rng: Rng,
  label = 'student',
  allowTraining = true,
): ParamStore {
  if (spec.head.inDim !== resnetFeatureDim(spec.backbone)) {
    throw new Error(
      `createCarpParams: head.inDim ${spec.head.inDim} != backbone feature width ${resnetFeatureDim(spec.backbone)}`,
    );
  }
  const store = new ParamStore(label, allowTraining);
  try {
    initResNet(store.scope('backbone.'), spec.backbone, rng);
    initCarpHead(store.scope('head.'), spec.head, rng);
  } catch (e) {
    store.dispose();
    throw e;
  }
  return store;
}

/** Index groups of consecutive views with equal last spatial size, e.g. [[0, 1], [2, …, 7]]. */
export function groupViewsByResolution(views: readonly Tensor4D[]): number[][] {
  const groups: number[][] = [];
  views.forEach((v, i) => {
    const last = groups[groups.length - 1];
    if (last && views[last[0]].shape[2] === v.shape[2]) last.push(i);
    else groups.push([i]);
  });
  return groups;
}

/** Teacher representation used by every evaluation: pooled backbone features `[N, D]`. */
export function backboneFeatures(
  params: ParamStore,
  spec: Pick<CarpNetworkSpec, 'backbone'>,
  x: Tensor4D,
  opts: ForwardOptions = { training: false },
): Tensor2D {
  return resnetForward(params.scope('backbone.'), spec.backbone, x, opts);
}

/** Multi-crop forward: V views → logits `[V·B, K]` (view-major). */
export function multiCropForward(
  params: ParamStore,
  spec: CarpNetworkSpec,
  views: readonly Tensor4D[],
  opts: ForwardOptions,
): Tensor2D {
  tf.util.assert(views.length > 0, () => 'multiCropForward: no views');
  const b = views[0].shape[0];
  tf.util.assert(
    views.every((v) => v.shape[0] === b),
    () =>
      `multiCropForward: all views need the same batch size, got [${views.map((v) => v.shape[0])}]`,
  );
  return tf.tidy(() => {
    const backbone = params.scope('backbone.');
    const feats = groupViewsByResolution(views).map((g) => {
      const x =
        g.length === 1
          ? views[g[0]]
          : tf.concat(
              g.map((i) => views[i]),
              0,
            );
      return resnetForward(backbone, spec.backbone, x, opts);
    });
    const h = feats.length === 1 ? feats[0] : tf.concat(feats, 0);
    return carpHeadForward(params.scope('head.'), spec.head, h, opts);
  });
}

/** Splits view-major rows `[V·B, K]` into V tensors `[B, K]`. */
export function splitViews(logits: Tensor2D, numViews: number): Tensor2D[] {
  tf.util.assert(
    Number.isInteger(numViews) && numViews > 0 && logits.shape[0] % numViews === 0,
    () => `splitViews: ${logits.shape[0]} rows do not split into ${numViews} views`,
  );
  return tf.split(logits, numViews, 0);
}
