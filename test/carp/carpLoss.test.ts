import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D, Tensor3D } from '../../src/backend/tf';
import { carpLoss, pseudoLabelAccuracy, CARP_EPSILON } from '../../src/carp/carpLoss';
import { partitionProbabilities } from '../../src/carp/randomPartition';
import { loadGolden } from '../helpers/golden';
import { expectClose, expectNoLeak } from '../helpers/tensors';
import { TEST_BACKENDS, useBackend } from './backends';

interface LossCase {
  batch: number;
  numPrototypes: number;
  partitionSize: number;
  numCrops: number;
  studentLogits: number[][][];
  teacherLogits: number[][][];
  partitionIndices: number[];
  expected: { consistency: number; entropy: number; gradStudentLogits: number[][][] };
}

/** Loss terms and d(total)/d(student logits), all as plain numbers. */
function lossAndGrad(
  studentLogits: number[][][],
  teacherLogits: number[][][],
  partition: Int32Array,
  partitionSize: number,
): { consistency: number; entropy: number; total: number; grads: Float32Array[] } {
  const student = studentLogits.map((v) => tf.tensor2d(v));
  const teacher = teacherLogits.map((v) => tf.tensor2d(v));
  const terms: number[] = [];
  const f = (...xs: tf.Tensor[]) => {
    const q = teacher.map((t) => partitionProbabilities(t, partition, partitionSize));
    const p = xs.map((x) => partitionProbabilities(x as Tensor2D, partition, partitionSize));
    const { consistency, entropy, total } = carpLoss(p, q);
    terms.push(consistency.dataSync()[0], entropy.dataSync()[0], total.dataSync()[0]);
    return total;
  };
  const grads = tf.grads(f)(student);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose([...student, ...teacher, ...grads]);
  return { consistency: terms[0], entropy: terms[1], total: terms[2], grads: out };
}

// §4.5 worked example (K = 6, P = 3, B = 2, V = 3).
const EX_PARTITION = Int32Array.from([4, 1, 5, 0, 3, 2]);
const EX_STUDENT = [
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
];
const EX_TEACHER = [
  [
    [2, 0, 1, -1, 1, 0],
    [0, 2, -1, 1, 0, 0.5],
  ],
  [
    [1, 0, 2, 0, 0.5, -1],
    [0.5, 1, 0, 2, -1, 0],
  ],
];

function exampleProbabilities(): { p: Tensor3D[]; q: Tensor3D[] } {
  return tf.tidy(() => ({
    p: EX_STUDENT.map((v) => partitionProbabilities(tf.tensor2d(v), EX_PARTITION, 3)),
    q: EX_TEACHER.map((v) => partitionProbabilities(tf.tensor2d(v), EX_PARTITION, 3)),
  }));
}

for (const backend of TEST_BACKENDS) {
  describe(`carpLoss on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('matches carp-loss.json (terms and student-logit gradients)', () => {
      expect(tf.getBackend()).toBe(backend);
      for (const c of loadGolden<LossCase>('carp-loss.json').cases) {
        const partition = Int32Array.from(c.partitionIndices);
        const r = lossAndGrad(c.studentLogits, c.teacherLogits, partition, c.partitionSize);
        expectClose([r.consistency], [c.expected.consistency], {
          atol: 0,
          rtol: 1e-5,
          label: 'consistency',
        });
        expectClose([r.entropy], [c.expected.entropy], { atol: 0, rtol: 1e-5, label: 'entropy' });
        expect(r.grads.length).toBe(c.numCrops);
        r.grads.forEach((g, v) =>
          expectClose(g, c.expected.gradStudentLogits[v].flat(), {
            atol: 1e-6,
            rtol: 0,
            label: `grad view ${v}`,
          }),
        );
      }
    });

    it('reproduces the §4.5 worked example step by step', () => {
      const { p, q } = exampleProbabilities();
      const block = (t: Tensor3D) => t.arraySync();
      expectClose(
        block(p[0]).flat(2),
        [
          0.45186275, 0.27406862, 0.27406862, 0.07769558, 0.57409698, 0.34820741, 0.25949645,
          0.03511902, 0.70538449, 0.10650697, 0.78698599, 0.10650697,
        ],
        { label: 'student v0' },
      );
      expectClose(
        block(q[1]).flat(2),
        [
          0.54654938, 0.33149895, 0.12195165, 0.09003057, 0.66524088, 0.24472845, 0.24472848,
          0.09003057, 0.66524094, 0.16425163, 0.73612469, 0.09962364,
        ],
        { label: 'teacher u1' },
      );
      // Pair dot products s[b][n] and pair losses (§4.5).
      const pairs: [number, number, number[], number][] = [
        [0, 1, [0.3712419, 0.47412408, 0.53591863, 0.60742444], 0.71487202],
        [1, 0, [0.3326653, 0.60742444, 0.53591863, 0.43227647], 0.76540219],
        [2, 0, [0.46882519, 0.19992138, 0.3546646, 0.3791347], 1.09345071],
        [2, 1, [0.42881542, 0.24472847, 0.42888591, 0.35836078], 1.03177851],
      ];
      for (const [v, u, dots, pairLoss] of pairs) {
        const s = tf.tidy(() => tf.sum(tf.mul(p[v], q[u]), -1));
        const sv = Array.from(s.dataSync());
        expectClose(sv, dots, { label: `s(${v},${u})` });
        expectClose([-sv.reduce((a, x) => a + Math.log(x), 0) / 4], [pairLoss], {
          label: `pair (${v},${u})`,
        });
        s.dispose();
      }
      const m = tf.tidy(() => tf.div(tf.addN([...p, ...q].map((t) => tf.sum(t, 1))), 10));
      expectClose(
        m.dataSync(),
        [0.32299978, 0.42516568, 0.25183454, 0.33493259, 0.35472791, 0.3103395],
        {
          label: 'm_b',
        },
      );
      tf.dispose([m, ...p, ...q]);

      const r = lossAndGrad(EX_STUDENT, EX_TEACHER, EX_PARTITION, 3);
      expectClose([r.consistency, r.entropy, r.total], [0.90137589, 0.01208377, 0.91345966], {
        label: 'L',
      });
      expectClose(
        r.grads.flatMap((g) => [...g]),
        [
          0.00948411, 0.00550239, -0.01150207, 0.00201795, -0.01349681, 0.00799442, 0.00465928,
          -0.00861596, 0.0049614, -0.00962068, 0.00365761, 0.00495835, -0.01269865, 0.01663136,
          0.00712124, 0.0055774, -0.01714898, 0.00051761, 0.00208192, -0.00707496, 0.01579101,
          -0.01787293, 0.00455429, 0.00252067, -0.01031316, 0.00227984, -0.01017478, 0.02048793,
          -0.02025614, 0.0179763, 0.03175154, -0.02288933, 0.00685796, -0.0386095, 0.01906532,
          0.00382401,
        ],
        { atol: 1e-7, rtol: 0, label: 'grad' },
      );
    });

    it('weights L_reg by regWeight in the total only (§11.35, worked example)', async () => {
      // §4.5: L_cons = 0.90137589, L_reg = 0.01208377, so by hand
      // λ = 0 → 0.90137589, λ = 2.5 → 0.90137589 + 0.03020943 = 0.93158532.
      const { p, q } = exampleProbabilities();
      for (const [lambda, total] of [
        [0, 0.90137589],
        [2.5, 0.93158532],
        [1, 0.91345966],
      ]) {
        const r = carpLoss(p, q, lambda);
        expectClose(
          [r.consistency, r.entropy, r.total].map((t) => t.dataSync()[0]),
          [0.90137589, 0.01208377, total],
          { label: `λ = ${lambda}` },
        );
        tf.dispose([r.consistency, r.entropy, r.total]);
      }
      // With λ = 0 the gradient is that of L_cons alone; the regulariser's gradient is what
      // λ = 1 adds to it: grad(λ = 3) = grad(cons) + 3 · (grad(λ = 1) − grad(cons)).
      const gradOf = (lambda: number) => {
        const [g] = tf.grads(
          (a: tf.Tensor) => carpLoss([a as Tensor3D, p[1], p[2]], q, lambda).total,
        )([p[0]]);
        const out = Float32Array.from(g.dataSync());
        g.dispose();
        return out;
      };
      const [g0, g1, g3] = [gradOf(0), gradOf(1), gradOf(3)];
      const [gc] = tf.grads((a: tf.Tensor) => carpLoss([a as Tensor3D, p[1], p[2]], q).consistency)(
        [p[0]],
      );
      expectClose(g0, gc.dataSync(), { atol: 1e-8, rtol: 0, label: 'λ = 0 is L_cons' });
      expectClose(
        g3,
        g0.map((x, i) => x + 3 * (g1[i] - x)),
        { atol: 1e-7, rtol: 0, label: 'λ = 3' },
      );
      expect(g1.some((x, i) => Math.abs(x - g0[i]) > 1e-4)).toBe(true); // L_reg does pull
      tf.dispose([gc, ...p, ...q]);
      await expectNoLeak(() => {
        const e = exampleProbabilities();
        const r = carpLoss(e.p, e.q, 0.5);
        tf.dispose([r.consistency, r.entropy, r.total, ...e.p, ...e.q]);
      });
    });

    it('depends only on block membership (block order, order inside blocks)', () => {
      const base = lossAndGrad(EX_STUDENT, EX_TEACHER, EX_PARTITION, 3);
      const reordered = [
        Int32Array.from([0, 3, 2, 4, 1, 5]), // blocks swapped
        Int32Array.from([5, 4, 1, 2, 0, 3]), // order inside blocks changed
      ];
      for (const partition of reordered) {
        const r = lossAndGrad(EX_STUDENT, EX_TEACHER, partition, 3);
        expectClose([r.consistency, r.entropy], [base.consistency, base.entropy], {
          label: 'terms',
        });
        r.grads.forEach((g, v) =>
          expectClose(g, base.grads[v], { atol: 1e-7, rtol: 0, label: `grad ${v}` }),
        );
      }
    });

    it('ignores leftover prototypes when P does not divide K (their gradient is 0)', () => {
      // K = 7, P = 3: prototype 6 is left over; appending it must change nothing.
      const extra = (views: number[][][]) =>
        views.map((v) => v.map((row, n) => [...row, 3 * n - 1]));
      const base = lossAndGrad(EX_STUDENT, EX_TEACHER, EX_PARTITION, 3);
      const r = lossAndGrad(extra(EX_STUDENT), extra(EX_TEACHER), EX_PARTITION, 3);
      expectClose([r.consistency, r.entropy], [base.consistency, base.entropy], { label: 'terms' });
      r.grads.forEach((g, v) => {
        const rows = [0, 1].map((n) => [...g.slice(n * 7, n * 7 + 6)]);
        expectClose(rows.flat(), base.grads[v], { atol: 1e-7, rtol: 0, label: `grad ${v}` });
        expect([g[6], g[13]]).toEqual([0, 0]);
      });
    });

    it('treats the teacher as a constant (zero gradient w.r.t. teacher probabilities)', () => {
      const { p, q } = exampleProbabilities();
      const gq = tf.grads(
        (a: tf.Tensor, b: tf.Tensor) => carpLoss(p, [a as Tensor3D, b as Tensor3D]).total,
      )(q);
      for (const g of gq) expect(Array.from(g.dataSync())).toEqual(new Array(12).fill(0));
      tf.dispose([...gq, ...p, ...q]);
    });

    it('gives ln P consistency and zero regulariser for uniform assignments', () => {
      const u = () => tf.fill([4, 3, 8], 1 / 8) as Tensor3D;
      const p = [u(), u(), u()];
      const q = [u(), u()];
      const r = carpLoss(p, q);
      expectClose([r.consistency.dataSync()[0], r.entropy.dataSync()[0]], [Math.log(8), 0], {
        label: 'uniform',
      });
      tf.dispose([...p, ...q, r.consistency, r.entropy, r.total]);
    });

    it('clamps dot products at ε (no infinity, no gradient through the clamp)', () => {
      // Disjoint one-hot student/teacher → s = 0 → −ln ε per entry.
      const p = [tf.tensor3d([[[1, 0]]]), tf.tensor3d([[[1, 0]]])];
      const q = [tf.tensor3d([[[0, 1]]]), tf.tensor3d([[[0, 1]]])];
      const [g0] = tf.grads((a: tf.Tensor) => carpLoss([a as Tensor3D, p[1]], q).consistency)([
        p[0],
      ]);
      const r = carpLoss(p, q);
      expectClose([r.consistency.dataSync()[0]], [-Math.log(CARP_EPSILON)], { label: 'clamped' });
      expect(Array.from(g0.dataSync())).toEqual([0, 0]);
      tf.dispose([...p, ...q, g0, r.consistency, r.entropy, r.total]);
    });

    it('leaks no tensors (forward and gradient)', async () => {
      const { p, q } = exampleProbabilities();
      await expectNoLeak(() => {
        const r = carpLoss(p, q);
        tf.dispose([r.consistency, r.entropy, r.total]);
      });
      await expectNoLeak(() => lossAndGrad(EX_STUDENT, EX_TEACHER, EX_PARTITION, 3));
      await expectNoLeak(() => pseudoLabelAccuracy(p, q));
      tf.dispose([...p, ...q]);
    });
  });
}

describe('carpLoss input checks', () => {
  beforeAll(() => useBackend('cpu'));

  it('rejects wrong view counts and mismatched shapes with clear messages', async () => {
    await expectNoLeak(() => {
      const a = tf.zeros([2, 3, 4]) as Tensor3D;
      const b = tf.zeros([2, 3, 5]) as Tensor3D;
      const c = tf.zeros([6, 4]) as unknown as Tensor3D;
      expect(() => carpLoss([a], [a, a])).toThrow(/at least the 2 global student views/);
      expect(() => carpLoss([a, a], [a])).toThrow(/exactly 2 views/);
      expect(() => carpLoss([a, a, b], [a, a])).toThrow(/student\[2\] has shape \[2,3,5\]/);
      expect(() => carpLoss([a, a], [a, b])).toThrow(/teacher\[1\]/);
      expect(() => carpLoss([c, c], [c, c])).toThrow(/\[N_blocks, B, P\]/);
      expect(() => carpLoss([a, a], [a, a], -0.5)).toThrow(/regWeight must be .* ≥ 0, got -0.5/);
      expect(() => carpLoss([a, a], [a, a], NaN)).toThrow(/regWeight .* got NaN/);
      tf.dispose([a, b, c]);
    });
  });
});

describe('pseudoLabelAccuracy', () => {
  beforeAll(() => useBackend('cpu'));

  it('scores student view 0 against the teacher view 1 arg-max inside block 0', async () => {
    // Block 0 of the worked example: student v0 arg-max (0, 1); teacher u1 arg-max (0, 1).
    const { p, q } = exampleProbabilities();
    const r = await pseudoLabelAccuracy(p, q);
    expect(Array.from(r.studentArgmax)).toEqual([0, 1]);
    expect(Array.from(r.teacherArgmax)).toEqual([0, 1]);
    expect([r.top1, r.top5]).toEqual([1, 1]); // top-5 is top-min(5, P) = top-3 here
    tf.dispose([...p, ...q]);

    const s = tf.tensor3d([
      [
        [0.1, 0.5, 0.4],
        [0.6, 0.3, 0.1],
      ],
    ]);
    const t = tf.tensor3d([
      [
        [0.2, 0.1, 0.7],
        [0.1, 0.1, 0.8],
      ],
    ]);
    const r2 = await pseudoLabelAccuracy([s, s], [s, t]);
    expect([r2.top1, r2.top5]).toEqual([0, 1]);
    tf.dispose([s, t]);
  });
});
