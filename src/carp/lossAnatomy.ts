/**
 * Every quantity of the CARP loss (§3–§4) for a handful of logits, as plain numbers: the
 * blocks of the partition, each view's per-block softmax, the inner products and losses of
 * every (student, teacher) pair, the block marginals and their KL to uniform, the terms
 * and the total from `carpLoss` itself, and how hard each term pulls on the student's
 * logits (gradient norms). For teaching and inspection (the loss notebook); training
 * calls `carpLoss` directly.
 */
import { tf } from '../backend/tf';
import type { Scalar, Tensor, Tensor2D, Tensor3D } from '../backend/tf';
import { CARP_EPSILON, carpLoss } from './carpLoss';
import { partitionProbabilities } from './randomPartition';

export interface LossAnatomyInput {
  /** V views × B images × K logits (views: global A, global B, locals…). */
  studentLogits: number[][][];
  /** 2 views × B images × K logits. */
  teacherLogits: number[][][];
  /** The partition: N_p·P distinct prototype ids, block b = entries bP … bP+P−1. */
  partition: ArrayLike<number>;
  /** P. */
  partitionSize: number;
  /** λ, the weight of L_reg in the total (default 1, the method's). */
  regWeight?: number;
}

export interface LossPair {
  /** Student view. */
  v: number;
  /** Teacher view (≠ v as an index). */
  u: number;
  /** s[block][image] = ⟨p_v, q_u⟩ before the clamp. */
  s: number[][];
  /** Mean of −ln clamp(s) over blocks and images. */
  loss: number;
}

export interface CarpLossAnatomy {
  /** Prototype ids of each block. */
  blocks: number[][];
  /** Per-block softmax of each student view: [view][block][image][entry]. */
  student: number[][][][];
  /** The same for the 2 teacher views. */
  teacher: number[][][][];
  /** Every pair of §4.1, in the loss's order. */
  pairs: LossPair[];
  /** m_b, the mean of all (V + 2)·B rows of block b: [block][entry]. */
  marginals: number[][];
  /** KL(m_b ‖ uniform) per block. */
  klPerBlock: number[];
  /** L_cons, L_reg and L = L_cons + λ·L_reg as `carpLoss` computes them. */
  consistency: number;
  regularizer: number;
  total: number;
  regWeight: number;
  /** ‖∂term/∂(student logits)‖ over all views (the teacher is a constant). */
  gradientNorms: { consistency: number; regularizer: number; total: number };
}

/** V views of B images, each image's logits the same `row` (collapse states, uniform outputs). */
export function repeatLogits(views: number, images: number, row: readonly number[]): number[][][] {
  return Array.from({ length: views }, () => Array.from({ length: images }, () => [...row]));
}

/** Computes every quantity of the loss for `input` (see `CarpLossAnatomy`). */
export async function carpLossAnatomy(input: LossAnatomyInput): Promise<CarpLossAnatomy> {
  const P = input.partitionSize;
  const regWeight = input.regWeight ?? 1;
  const partition = Int32Array.from(input.partition);
  const blocks = Array.from({ length: partition.length / P }, (_, b) =>
    Array.from(partition.subarray(b * P, (b + 1) * P)),
  );
  const probs = (logits: number[][][]) =>
    logits.map((v) => partitionProbabilities(tf.tensor2d(v) as Tensor2D, partition, P));

  const [studentT, teacherT] = tf.tidy(() => [
    probs(input.studentLogits),
    probs(input.teacherLogits),
  ]);
  try {
    const student = await Promise.all(studentT.map((t) => t.array() as Promise<number[][][]>));
    const teacher = await Promise.all(teacherT.map((t) => t.array() as Promise<number[][][]>));
    const pairs: LossPair[] = [];
    for (let v = 0; v < student.length; v++) {
      for (let u = 0; u < 2; u++) {
        if (v === u) continue;
        const s = student[v].map((block, b) =>
          block.map((p, n) => p.reduce((a, x, c) => a + x * teacher[u][b][n][c], 0)),
        );
        const clamp = (x: number) => Math.min(1 - CARP_EPSILON, Math.max(CARP_EPSILON, x));
        const all = s.flat();
        pairs.push({ v, u, s, loss: all.reduce((a, x) => a - Math.log(clamp(x)), 0) / all.length });
      }
    }
    const rows = [...student, ...teacher];
    const marginals = blocks.map((_, b) =>
      Array.from({ length: P }, (_, c) => {
        let sum = 0;
        let n = 0;
        for (const view of rows) {
          for (const p of view[b]) {
            sum += p[c];
            n++;
          }
        }
        return sum / n;
      }),
    );
    const klPerBlock = marginals.map(
      (m) =>
        Math.log(P) +
        m.reduce(
          (a, x) => a + x * Math.log(Math.min(1 - CARP_EPSILON, Math.max(CARP_EPSILON, x))),
          0,
        ),
    );

    const terms = tf.tidy(() => {
      const r = carpLoss(studentT, teacherT, regWeight);
      return [r.consistency, r.entropy, r.total];
    });
    const [consistency, regularizer, total] = await Promise.all(
      terms.map(async (t) => (await t.data())[0]),
    );
    tf.dispose(terms);

    const norm = async (pick: (r: ReturnType<typeof carpLoss>) => Scalar) => {
      const xs = input.studentLogits.map((v) => tf.tensor2d(v));
      const grads = tf.tidy(() => {
        const q = teacherT.map((t) => t as Tensor3D);
        return tf.grads((...ls: Tensor[]) =>
          pick(
            carpLoss(
              ls.map((l) => partitionProbabilities(l as Tensor2D, partition, P)),
              q,
              regWeight,
            ),
          ),
        )(xs);
      });
      const sq = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
      const value = Math.sqrt((await sq.data())[0]);
      tf.dispose([...xs, ...grads, sq]);
      return value;
    };
    const gradientNorms = {
      consistency: await norm((r) => r.consistency),
      regularizer: await norm((r) => r.entropy),
      total: await norm((r) => r.total),
    };
    return {
      blocks,
      student,
      teacher,
      pairs,
      marginals,
      klPerBlock,
      consistency,
      regularizer,
      total,
      regWeight,
      gradientNorms,
    };
  } finally {
    tf.dispose([...studentT, ...teacherT]);
  }
}

/**
 * The three states the collapse discussion compares (§11.35), as loss inputs on a given
 * partition, with `P` images so that each image can own one entry of every block:
 * - `collapsed`: every image puts logit `sharpness` on the first prototype of every
 *   block (one prototype per block wins everything);
 * - `spread`: image n puts `sharpness` on entry n of every block (confident, and every
 *   prototype used equally: the state the loss is minimised by);
 * - either with `sharpness` 0 is the other collapse, uniform outputs.
 * Student (`views`) and teacher (2 views) give the same logits, as views that agree.
 */
export function lossState(
  kind: 'collapsed' | 'spread',
  o: { partition: ArrayLike<number>; partitionSize: number; sharpness: number; views?: number },
): LossAnatomyInput {
  const P = o.partitionSize;
  const partition = Array.from(o.partition);
  const K = Math.max(...partition) + 1;
  const numBlocks = partition.length / P;
  const rows = Array.from({ length: P }, (_, n) => {
    const row = new Array<number>(K).fill(0);
    for (let b = 0; b < numBlocks; b++)
      row[partition[b * P + (kind === 'spread' ? n : 0)]] = o.sharpness;
    return row;
  });
  const views = (count: number) => Array.from({ length: count }, () => rows.map((r) => [...r]));
  return {
    studentLogits: views(o.views ?? 3),
    teacherLogits: views(2),
    partition,
    partitionSize: P,
  };
}

/** One point of `sharpnessSweep`. */
export interface SweepPoint {
  sharpness: number;
  consistency: number;
  regularizer: number;
  total: number;
  gradientNorms: CarpLossAnatomy['gradientNorms'];
}

/** The loss terms of `lossState(kind)` at every sharpness (0 = uniform outputs). */
export async function sharpnessSweep(
  kind: 'collapsed' | 'spread',
  sharpnesses: readonly number[],
  o: { partition: ArrayLike<number>; partitionSize: number },
): Promise<SweepPoint[]> {
  const points: SweepPoint[] = [];
  for (const sharpness of sharpnesses) {
    const a = await carpLossAnatomy(lossState(kind, { ...o, sharpness }));
    const { consistency, regularizer, total, gradientNorms } = a;
    points.push({ sharpness, consistency, regularizer, total, gradientNorms });
  }
  return points;
}
