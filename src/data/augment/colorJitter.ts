/**
 * Colour jitter with a per-image random order of its four operations (§6 step 2,
 * torchvision `ColorJitter`: the order is a random permutation per call, i.e. per image).
 *
 * Batched in four stages: at stage t every jittered image applies its t-th operation.
 * Within a stage the images are grouped by operation and each group is processed as a
 * sub-batch (`applyToSubset`), so every image pays for each operation exactly once and
 * the number of dispatched ops stays ≈ 4 × (the four ops), independent of batch size.
 */
import { tf } from '../../backend/tf';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from './color';
import { applyToSubset } from './subset';

/** Operation ids in torchvision's order: 0 brightness, 1 contrast, 2 saturation, 3 hue. */
export const JITTER_OPS = ['brightness', 'contrast', 'saturation', 'hue'] as const;

export interface JitterParams {
  /** Whether the image is jittered at all (p = 0.8 in the paper). */
  apply: boolean;
  /** Permutation of 0..3: the order of the operations. */
  order: number[];
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
}

function opFn(op: number, factors: number[]): (x: tf.Tensor4D) => tf.Tensor4D {
  switch (op) {
    case 0:
      return (x) => adjustBrightness(x, factors);
    case 1:
      return (x) => adjustContrast(x, factors);
    case 2:
      return (x) => adjustSaturation(x, factors);
    default:
      return (x) => adjustHue(x, factors);
  }
}

/** Applies each image's jitter (images with `apply: false` pass unchanged). */
export function colorJitterBatch(x: tf.Tensor4D, params: readonly JitterParams[]): tf.Tensor4D {
  if (params.length !== x.shape[0]) {
    throw new Error(
      `colorJitterBatch: ${params.length} parameter sets for a batch of ${x.shape[0]}`,
    );
  }
  let cur = tf.clone(x);
  for (let stage = 0; stage < 4; stage++) {
    for (let op = 0; op < 4; op++) {
      const idx: number[] = [];
      const factors: number[] = [];
      params.forEach((p, i) => {
        if (p.apply && p.order[stage] === op) {
          idx.push(i);
          factors.push(p[JITTER_OPS[op]]);
        }
      });
      if (idx.length === 0) continue;
      const next = applyToSubset(cur, idx, opFn(op, factors));
      cur.dispose();
      cur = next;
    }
  }
  return cur;
}
