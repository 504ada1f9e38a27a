/**
 * The CARP loss (§4): consistency of student and teacher block assignments plus a
 * KL-to-uniform regulariser on the per-block batch marginal. Weights 1 and 1, no
 * temperature (§4.3, §11.6); the regulariser's weight can be changed to show what it
 * prevents (§11.35).
 *
 * Source: sthalles/carp `modules/carp_loss.py`, restated in §4; the pairing loop is
 * DINO's (`DINOLoss.forward`: every student view against every teacher view, v ≠ u).
 */
import { tf } from '../backend/tf';
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '../backend/tf';

/** float32 machine epsilon 2^-23: the clamp bound of §4.1/§4.2. */
export const CARP_EPSILON = 2 ** -23;

export interface CarpLossTerms {
  /** L_cons (§4.1). */
  consistency: Scalar;
  /** L_reg, the KL-to-uniform of the block marginals (§4.2); "entropy" in the reference logs. */
  entropy: Scalar;
  /** L = L_cons + λ·L_reg (§4.3; λ = `regWeight`, 1 in the method). */
  total: Scalar;
}

/**
 * Identity whose gradient is zero: tfjs has no `stopGradient`, so the teacher's
 * probabilities pass through this to be constants for `tf.grad`/`variableGrads`, even
 * when a caller differentiates w.r.t. them (§3 step 3: teacher logits are detached).
 */
function stopGradient(x: Tensor): Tensor {
  // Built per call: nothing engine-bound at module scope (architecture §6.7).
  const identity = tf.customGrad((...inputs) => ({
    value: tf.clone(inputs[0] as Tensor),
    gradFunc: (dy: Tensor) => tf.zerosLike(dy),
  }));
  return identity(x);
}

function checkShapes(student: Tensor3D[], teacher: Tensor3D[]): [number, number, number] {
  tf.util.assert(
    Array.isArray(student) && student.length >= 2,
    () => `carpLoss: need at least the 2 global student views, got ${student?.length}`,
  );
  tf.util.assert(
    Array.isArray(teacher) && teacher.length === 2,
    () => `carpLoss: the teacher gives exactly 2 views (global A, B), got ${teacher?.length}`,
  );
  const shape = student[0].shape;
  tf.util.assert(
    student[0].rank === 3,
    () => `carpLoss: probabilities must be [N_blocks, B, P], got student[0] shape [${shape}]`,
  );
  const all = [
    ...student.map((t, i) => ['student', i, t] as const),
    ...teacher.map((t, i) => ['teacher', i, t] as const),
  ];
  for (const [who, i, t] of all) {
    tf.util.assert(
      tf.util.arraysEqual(t.shape, shape),
      () => `carpLoss: ${who}[${i}] has shape [${t.shape}], expected [${shape}] like student[0]`,
    );
    tf.util.assert(
      t.dtype === 'float32',
      () => `carpLoss: ${who}[${i}] must be float32, got ${t.dtype}`,
    );
  }
  return shape as [number, number, number];
}

/**
 * L_cons, L_reg and their sum (§4.1–§4.3).
 *
 * Consistency: for every pair (v, u), v ∈ 0..V−1, u ∈ {0, 1}, v ≠ u (|Π| = 2(V−1)),
 * s[b, n] = ⟨p_v[b, n], q_u[b, n]⟩ clamped into [ε, 1−ε] (no gradient outside, like
 * `torch.clamp`), pair loss = mean_{b,n} −ln s; L_cons = mean over pairs.
 *
 * Regulariser: m_b = mean of the (V+2)·B rows of all student and both teacher views in
 * block b; L_reg = mean_b [ ln P + Σ_c m_bc ln clamp(m_bc, ε, 1−ε) ]. Teacher rows enter
 * m_b but carry no gradient (§4.2). The marginal is over this micro-batch only
 * (§4.4).
 *
 * @param student V tensors [N_blocks, B, P] (views in order A, B, locals…), from
 *   `partitionProbabilities`.
 * @param teacher 2 tensors [N_blocks, B, P] (views A, B); treated as constants.
 * @param regWeight λ ≥ 0, the weight of L_reg in the total (§11.35); `consistency` and
 *   `entropy` are returned unweighted, so logs stay comparable across λ.
 */
export function carpLoss(student: Tensor3D[], teacher: Tensor3D[], regWeight = 1): CarpLossTerms {
  tf.util.assert(
    Number.isFinite(regWeight) && regWeight >= 0,
    () => `carpLoss: regWeight must be a finite number ≥ 0, got ${regWeight}`,
  );
  const [, batch, partitionSize] = checkShapes(student, teacher);
  const numViews = student.length;
  const [consistency, entropy, total] = tf.tidy(() => {
    const q = teacher.map((t) => stopGradient(t) as Tensor3D);

    // §4.1 — one −ln(clamped dot product) mean per (student view, other teacher view).
    const pairLosses: Scalar[] = [];
    for (let v = 0; v < numViews; v++) {
      for (let u = 0; u < 2; u++) {
        if (v === u) continue; // index comparison: the same global image is not paired
        const s = tf.sum(tf.mul(student[v], q[u]), -1); // [N_p, B]
        pairLosses.push(tf.mean(tf.neg(tf.log(tf.clipByValue(s, CARP_EPSILON, 1 - CARP_EPSILON)))));
      }
    }
    const cons = tf.div(tf.addN(pairLosses), pairLosses.length) as Scalar;

    // §4.2 — per-block mean over all (V + 2)·B rows, then KL to uniform, mean over blocks.
    const rowSum = (views: Tensor[]) => tf.addN(views.map((p) => tf.sum(p, 1))); // [N_p, P]
    const rows = (numViews + 2) * batch;
    const m = tf.div(tf.add(rowSum(student), rowSum(q)), rows);
    const mLogM = tf.mul(m, tf.log(tf.clipByValue(m, CARP_EPSILON, 1 - CARP_EPSILON)));
    const reg = tf.add(tf.mean(tf.sum(mLogM, -1)), Math.log(partitionSize)) as Scalar;

    // λ = 1 adds L_reg itself, so the method's total is bit-identical to cons + reg.
    const total = regWeight === 1 ? tf.add(cons, reg) : tf.add(cons, tf.mul(reg, regWeight));
    return [cons, reg, total as Scalar];
  });
  return { consistency, entropy, total };
}

export interface PseudoLabelAccuracy {
  /** Fraction of images whose student top-1 block-0 prototype is the teacher's arg-max. */
  top1: number;
  /** Same with the student's top-min(5, P). */
  top5: number;
  /** Arg-max position inside block 0 of student view 0, per image (for the histogram). */
  studentArgmax: Int32Array;
  /** Arg-max position inside block 0 of teacher view 1, per image (for the histogram). */
  teacherArgmax: Int32Array;
}

/**
 * Pseudo-label accuracy logged by the reference (§7): student view 0 vs the arg-max
 * of teacher view 1, both in block 0, indices = positions inside the block. Returned as
 * fractions (the reference logs %; our metrics are fractions, architecture §3.1).
 *
 * @param student V tensors [N_blocks, B, P]; only view 0 is read.
 * @param teacher 2 tensors [N_blocks, B, P]; only view 1 is read.
 */
export async function pseudoLabelAccuracy(
  student: Tensor3D[],
  teacher: Tensor3D[],
): Promise<PseudoLabelAccuracy> {
  const [, batch, partitionSize] = checkShapes(student, teacher);
  const s = tf.tidy(() =>
    tf.reshape(tf.slice(student[0], [0, 0, 0], [1, batch, partitionSize]), [batch, partitionSize]),
  ) as Tensor2D;
  try {
    return await blockPseudoLabelAccuracy(s, teacher[1]);
  } finally {
    s.dispose();
  }
}

/**
 * `pseudoLabelAccuracy` from the student's view-0 block-0 probabilities [B, P] (what
 * `carpLossFromLogits` returns) and the teacher's view 1 [N_blocks, B, P].
 */
export async function blockPseudoLabelAccuracy(
  studentBlock0: Tensor2D,
  teacherView1: Tensor3D,
): Promise<PseudoLabelAccuracy> {
  const [batch, partitionSize] = studentBlock0.shape;
  tf.util.assert(
    teacherView1.rank === 3 &&
      teacherView1.shape[1] === batch &&
      teacherView1.shape[2] === partitionSize,
    () =>
      `blockPseudoLabelAccuracy: teacher view [${teacherView1.shape}] does not match the student block [${studentBlock0.shape}]`,
  );
  const k = Math.min(5, partitionSize);
  // Tensors out of tidy, TypedArrays read afterwards (architecture §6.7).
  const [top, target] = tf.tidy(() => {
    const t = tf.squeeze(tf.slice(teacherView1, [0, 0, 0], [1, batch, partitionSize]), [0]);
    return [tf.topk(studentBlock0, k).indices, tf.argMax(t, -1)];
  });
  // Asynchronous reads: the webgpu backend cannot read synchronously in Node.
  const topIdx = (await top.data()) as Int32Array;
  const targetIdx = Int32Array.from(await target.data());
  tf.dispose([top, target]);
  const studentArgmax = new Int32Array(batch);
  let hit1 = 0;
  let hit5 = 0;
  for (let n = 0; n < batch; n++) {
    studentArgmax[n] = topIdx[n * k];
    if (topIdx[n * k] === targetIdx[n]) hit1++;
    for (let j = 0; j < k; j++) {
      if (topIdx[n * k + j] === targetIdx[n]) {
        hit5++;
        break;
      }
    }
  }
  return { top1: hit1 / batch, top5: hit5 / batch, studentArgmax, teacherArgmax: targetIdx };
}
