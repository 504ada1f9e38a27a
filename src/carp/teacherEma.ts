/**
 * Teacher update by exponential moving average (§2.4):
 *
 *   θ_T ← m·θ_T + (1 − m)·θ_S
 *
 * for every *parameter* pair in matching order — BN affine parameters and the frozen
 * prototype gains included (the gains stay 1) — but NOT the buffers: the teacher's BN
 * running statistics come only from its own training-mode forwards (§2.4, §11.4).
 * Called only on optimiser micro-steps, before the optimiser step (§7.6, §11.3).
 */
import { CARP_EMA_STEP } from '../backend/native/optimizerKernels';
import { tf } from '../backend/tf';
import type { ParamStore } from '../models/params';

/**
 * Moves every teacher parameter towards the student's.
 *
 * @param teacher updated in place.
 * @param student read only (must have the same parameter names, order and shapes).
 * @param momentum m ∈ [0, 1]: 1 keeps the teacher, 0 copies the student.
 */
export function updateTeacher(teacher: ParamStore, student: ParamStore, momentum: number): void {
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new Error(`updateTeacher: momentum must be in [0, 1], got ${momentum}`);
  }
  const names = student.parameterNames();
  const tNames = teacher.parameterNames();
  if (names.length !== tNames.length || names.some((n, i) => n !== tNames[i])) {
    throw new Error(
      `updateTeacher: parameter lists differ (${student.label}: ${names.length}, ${teacher.label}: ${tNames.length})`,
    );
  }
  const native = tf.getKernel(CARP_EMA_STEP, tf.getBackend()) !== undefined;
  for (const name of names) {
    const t = teacher.get(name);
    const s = student.get(name);
    tf.util.assert(
      tf.util.arraysEqual(t.shape, s.shape),
      () => `updateTeacher: '${name}' is [${t.shape}] in the teacher, [${s.shape}] in the student`,
    );
    if (native && t.dtype === 'float32') {
      // One native pass (src/backend/native/optimizerKernels.ts), the same formula.
      const next = tf.engine().runKernel(
        CARP_EMA_STEP,
        { teacher: t, student: s },
        {
          momentum,
        },
      ) as tf.Tensor;
      t.assign(next);
      next.dispose();
      continue;
    }
    // One tidy per parameter keeps the peak memory at one temporary per tensor.
    tf.tidy(() => t.assign(tf.add(tf.mul(t, momentum), tf.mul(s, 1 - momentum))));
  }
}
