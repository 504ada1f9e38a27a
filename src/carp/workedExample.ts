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
