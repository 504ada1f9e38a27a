/**
 * The §4.5 worked example as data: its inputs and every intermediate value, computed with
 * the official loss and partition modules in float32 and confirmed in float64 — not by
 * this kit. The loss notebook shows the kit's numbers beside these, and
 * test/carp/carpLoss.test.ts holds the kit to them.
 *
 * K = 6, P = 3 (N_p = 2 blocks), B = 2 images, V = 3 student views (2 global + 1 local),
 * 2 teacher views; partition π = (4, 1, 5, 0, 3, 2): block 0 = {4, 1, 5}, block 1 = {0, 3, 2}.
 * Block entries are in the order of π.
 */
export const WORKED_EXAMPLE = {
  numPrototypes: 6,
  partitionSize: 3,
  partition: [4, 1, 5, 0, 3, 2],
  /** [view][image][prototype] */
  studentLogits: [
    [
      [1, 0, 2, -1, 0.5, 0],
      [0, 1, 0, 2, -1, 0.5],
    ],
    [
      [2, 0.5, 1, 0, 0, -1],
      [-1, 2, 0.5, 1, 0, 0],
    ],
    [
      [0.5, -1, 1, 0, 2, 1],
      [1, 0, -1, 0.5, 1, 2],
    ],
  ],
  /** [view][image][prototype] */
  teacherLogits: [
    [
      [2, 0, 1, -1, 1, 0],
      [0, 2, -1, 1, 0, 0.5],
    ],
    [
      [1, 0, 2, 0, 0.5, -1],
      [0.5, 1, 0, 2, -1, 0],
    ],
  ],
  /** Student view 0, [block][image][entry]. */
  studentView0: [
    [
      [0.45186275, 0.27406862, 0.27406862],
      [0.07769558, 0.57409698, 0.34820741],
    ],
    [
      [0.25949645, 0.03511902, 0.70538449],
      [0.10650697, 0.78698599, 0.10650697],
    ],
  ],
  /** Teacher view 1, [block][image][entry]. */
  teacherView1: [
    [
      [0.54654938, 0.33149895, 0.12195165],
      [0.09003057, 0.66524088, 0.24472845],
    ],
    [
      [0.24472848, 0.09003057, 0.66524094],
      [0.16425163, 0.73612469, 0.09962364],
    ],
  ],
  /** Every (student view v, teacher view u ≠ v) pair: s[block][image] and the pair loss. */
  pairs: [
    {
      v: 0,
      u: 1,
      s: [
        [0.3712419, 0.47412408],
        [0.53591863, 0.60742444],
      ],
      loss: 0.71487202,
    },
    {
      v: 1,
      u: 0,
      s: [
        [0.3326653, 0.60742444],
        [0.53591863, 0.43227647],
      ],
      loss: 0.76540219,
    },
    {
      v: 2,
      u: 0,
      s: [
        [0.46882519, 0.19992138],
        [0.3546646, 0.3791347],
      ],
      loss: 1.09345071,
    },
    {
      v: 2,
      u: 1,
      s: [
        [0.42881542, 0.24472847],
        [0.42888591, 0.35836078],
      ],
      loss: 1.03177851,
    },
  ],
  consistency: 0.90137589,
  /** Block marginals m_b over the (V + 2)·B = 10 rows, [block][entry]. */
  marginals: [
    [0.32299978, 0.42516568, 0.25183454],
    [0.33493259, 0.35472791, 0.3103395],
  ],
  regularizer: 0.01208377,
  total: 0.91345966,
} as const;

/** One group of quantities of the worked example: the kit's values beside the reference's. */
export interface WorkedExampleCheck {
  quantity: string;
  kit: number[];
  reference: number[];
  /** max |kit − reference| over the group. */
  maxAbsDiff: number;
}

/** The numbers `carpLossAnatomy` gave for the worked example's input, group by group. */
export interface WorkedExampleValues {
  student: number[][][][];
  teacher: number[][][][];
  pairs: { s: number[][]; loss: number }[];
  consistency: number;
  marginals: number[][];
  regularizer: number;
  total: number;
}

/** Compares the kit's values for the worked example with the reference's, group by group. */
export function checkWorkedExample(a: WorkedExampleValues): WorkedExampleCheck[] {
  const group = (quantity: string, kit: number[], reference: readonly number[]) => {
    if (kit.length !== reference.length)
      throw new Error(`${quantity}: ${kit.length} values, the reference has ${reference.length}`);
    const maxAbsDiff = kit.reduce((m, x, i) => Math.max(m, Math.abs(x - reference[i])), 0);
    return { quantity, kit, reference: [...reference], maxAbsDiff };
  };
  const W = WORKED_EXAMPLE;
  return [
    group('student view 0, per-block softmax', a.student[0].flat(2), W.studentView0.flat(2)),
    group('teacher view 1, per-block softmax', a.teacher[1].flat(2), W.teacherView1.flat(2)),
    ...W.pairs.map((p, i) =>
      group(
        `pair (v ${p.v}, u ${p.u}): s and pair loss`,
        [...a.pairs[i].s.flat(), a.pairs[i].loss],
        [...p.s.flat(), p.loss],
      ),
    ),
    group('L_cons', [a.consistency], [W.consistency]),
    group('block marginals m_b', a.marginals.flat(), W.marginals.flat()),
    group('L_reg', [a.regularizer], [W.regularizer]),
    group('L = L_cons + L_reg', [a.total], [W.total]),
  ];
}

/** The worked example's logits and partition as a `carpLossAnatomy` input (fresh arrays). */
export function workedExampleInput(): {
  studentLogits: number[][][];
  teacherLogits: number[][][];
  partition: number[];
  partitionSize: number;
} {
  const W = WORKED_EXAMPLE;
  const copy = (views: readonly (readonly (readonly number[])[])[]) =>
    views.map((v) => v.map((r) => [...r]));
  return {
    studentLogits: copy(W.studentLogits),
    teacherLogits: copy(W.teacherLogits),
    partition: [...W.partition],
    partitionSize: W.partitionSize,
  };
}
