/**
 * The CARP loss straight from the student's logits (§3 steps 3–4, §4): the per-block
 * softmax under the random partition, L_cons, L_reg and L = L_cons + λ·L_reg, with the
 * gradient of L. Where the native addon is loaded this is one kernel
 * (src/backend/native/carpLossKernel.ts); elsewhere the composed graph of
 * `partitionProbabilities` + `carpLoss`, which stays the reference: the two agree to
 * float32 rounding (test/carp/fusedCarpLoss.test.ts).
 */
import { CARP_LOSS, type CarpLossAttrs } from '../backend/native/carpLossKernel';
import { tf } from '../backend/tf';
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '../backend/tf';
import { splitViews } from '../models/carpNetwork';
import { carpLoss, type CarpLossTerms } from './carpLoss';
import { partitionProbabilities } from './randomPartition';

/** The loss terms and the student's view-0 block-0 probabilities [B, P] (pseudo-labels, §7). */
export interface StudentLoss extends CarpLossTerms {
  studentBlock0: Tensor2D;
}

/** Whether the active backend has the fused kernel (wasm with the native addon). */
export function hasFusedCarpLoss(): boolean {
  return tf.getKernel(CARP_LOSS, tf.getBackend()) !== undefined;
}

/**
 * The loss of the student's logits against the teacher's block probabilities.
 *
 * @param logits [V·B, K], the V views' rows one view after the other (A, B, locals…).
 * @param teacher the teacher's 2 views as `partitionProbabilities` gives them, [N_p, B, P];
 *   constants (no gradient flows into them).
 * @param partition π, N_p·P distinct indices (`samplePartition`).
 * @param regWeight λ ≥ 0 (§11.35).
 * @param path `fused` needs the kernel; the default takes it where it exists.
 * @returns tensors owned by the caller. Only `total` carries a gradient on the fused path
 *   (its kernel computes ∂L/∂logits); differentiate `consistency` or `entropy` alone with
 *   `carpLoss`.
 */
export function carpLossFromLogits(
  logits: Tensor2D,
  teacher: Tensor3D[],
  partition: Int32Array,
  partitionSize: number,
  numViews: number,
  regWeight = 1,
  path: 'fused' | 'composed' = hasFusedCarpLoss() ? 'fused' : 'composed',
): StudentLoss {
  tf.util.assert(
    Number.isFinite(regWeight) && regWeight >= 0,
    () => `carpLossFromLogits: regWeight must be a finite number ≥ 0, got ${regWeight}`,
  );
  tf.util.assert(
    teacher.length === 2,
    () => `carpLossFromLogits: the teacher gives exactly 2 views, got ${teacher.length}`,
  );
  if (path === 'composed') {
    return tf.tidy(() => {
      const probs = splitViews(logits, numViews).map((l) =>
        partitionProbabilities(l, partition, partitionSize),
      );
      const terms = carpLoss(probs, teacher, regWeight);
      const [, batch] = probs[0].shape;
      const studentBlock0 = tf.reshape(tf.slice(probs[0], [0, 0, 0], [1, batch, partitionSize]), [
        batch,
        partitionSize,
      ]) as Tensor2D;
      return { ...terms, studentBlock0 };
    });
  }
  tf.util.assert(
    hasFusedCarpLoss(),
    () => `carpLossFromLogits: no ${CARP_LOSS} kernel on ${tf.getBackend()}`,
  );
  const attrs: CarpLossAttrs = { partition, partitionSize, views: numViews, regWeight };
  return tf.tidy(() => {
    let side: Tensor[] = [];
    // One kernel computes L and ∂L/∂logits; the gradient scales the saved ∂L/∂logits by
    // the upstream dL (e.g. 1/A under accumulation).
    const op = tf.customGrad((...args) => {
      const x = args[0] as Tensor;
      const save = args[1] as tf.GradSaveFunc;
      const [terms, grad, student0] = tf
        .engine()
        .runKernel(
          CARP_LOSS,
          { logits: x, teacher0: teacher[0], teacher1: teacher[1] },
          attrs as unknown as tf.NamedAttrMap,
        ) as Tensor[];
      save([grad]);
      // customGrad runs this inside a tidy: what leaves it besides `value` is kept.
      side = [tf.keep(terms), tf.keep(student0)];
      return {
        value: tf.reshape(tf.slice(terms, [2], [1]), []),
        gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => tf.mul(saved[0], dy as Tensor),
      };
    });
    const total = op(logits) as Scalar;
    const [terms, kept0] = side;
    const term = (i: number) => tf.reshape(tf.slice(terms, [i], [1]), []) as Scalar;
    // Tracked copies (Identity shares the buffer), so that a caller's tidy disposes what
    // it does not use; the kept originals go.
    const out = {
      consistency: term(0),
      entropy: term(1),
      total,
      studentBlock0: tf.clone(kept0) as Tensor2D,
    };
    tf.dispose(side);
    return out;
  });
}
