import { beforeAll, describe, expect, it } from 'vitest';
import {
  carpLossAnatomy,
  lossState,
  repeatLogits,
  sharpnessSweep,
} from '../../src/carp/lossAnatomy';
import {
  WORKED_EXAMPLE as W,
  workedExampleInput,
  checkWorkedExample,
} from '../../src/carp/workedExample';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const LN3 = 1.0986122886681098;

describe('carpLossAnatomy', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('reproduces every number of the §4.5 worked example', async () => {
    const a = await expectNoLeak(() => carpLossAnatomy(workedExampleInput()));
    expect(a.blocks).toEqual([
      [4, 1, 5],
      [0, 3, 2],
    ]);
    expectClose(a.student[0].flat(2), W.studentView0.flat(2), { label: 'student view 0' });
    expectClose(a.teacher[1].flat(2), W.teacherView1.flat(2), { label: 'teacher view 1' });
    expect(a.pairs.map((p) => [p.v, p.u])).toEqual(W.pairs.map((p) => [p.v, p.u]));
    for (const [i, p] of a.pairs.entries()) {
      expectClose(p.s.flat(), W.pairs[i].s.flat(), { label: `pair ${i} s` });
      expectClose([p.loss], [W.pairs[i].loss], { label: `pair ${i} loss` });
    }
    expectClose(a.marginals.flat(), W.marginals.flat(), { label: 'marginals' });
    // L_reg is the mean of the per-block KLs (§4.2).
    expectClose([(a.klPerBlock[0] + a.klPerBlock[1]) / 2], [W.regularizer]);
    expectClose([a.consistency, a.regularizer, a.total], [W.consistency, W.regularizer, W.total]);
    expect(checkWorkedExample(a).every((g) => g.maxAbsDiff < 1e-6)).toBe(true);
    // ‖∂L/∂ℓ‖ of the §4.5 gradient table: 0.08387061 (its 36 entries, squared and summed).
    expectClose([a.gradientNorms.total], [0.08387061], { atol: 1e-6 });
  });

  it('λ weighs L_reg in the total only', async () => {
    const a = await carpLossAnatomy({ ...workedExampleInput(), regWeight: 0 });
    expect(a.regWeight).toBe(0);
    expectClose([a.consistency, a.regularizer, a.total], [0.90137589, 0.01208377, 0.90137589]);
    // The unweighted L_reg still pulls (its norm is shown), but the total's pull is L_cons's.
    expect(a.gradientNorms.regularizer).toBeGreaterThan(0.01);
    expectClose([a.gradientNorms.total], [a.gradientNorms.consistency]);
  });

  it('the two collapse modes (§11.35): uniform outputs and one prototype per block', async () => {
    const uniform = await expectNoLeak(() =>
      carpLossAnatomy({
        studentLogits: repeatLogits(3, 2, [0, 0, 0, 0, 0, 0]),
        teacherLogits: repeatLogits(2, 2, [0, 0, 0, 0, 0, 0]),
        partition: W.partition,
        partitionSize: 3,
      }),
    );
    // p = q = 1/P everywhere: s = P·(1/P)² = 1/3, L_cons = ln 3; m_b uniform, L_reg = 0.
    expectClose(uniform.pairs[0].s.flat(), [1 / 3, 1 / 3, 1 / 3, 1 / 3]);
    expectClose([uniform.consistency, uniform.regularizer, uniform.total], [LN3, 0, LN3]);
    // A stationary point: neither term pulls the student away from it.
    expectClose([uniform.gradientNorms.consistency, uniform.gradientNorms.regularizer], [0, 0], {
      atol: 1e-7,
    });

    // Prototype 1 (block 0) and 0 (block 1) win every image with certainty.
    const peaked = [30, 30, 0, 0, 0, 0];
    const onePerBlock = await carpLossAnatomy({
      studentLogits: repeatLogits(3, 2, peaked),
      teacherLogits: repeatLogits(2, 2, peaked),
      partition: W.partition,
      partitionSize: 3,
    });
    expect(onePerBlock.marginals.map((m) => m.map((x) => Math.round(x)))).toEqual([
      [0, 1, 0],
      [1, 0, 0],
    ]);
    // s = 1: L_cons = 0; m_b one-hot: KL to uniform = ln 3, L_reg = ln 3.
    expectClose([onePerBlock.consistency, onePerBlock.regularizer], [0, LN3], { atol: 1e-5 });
  });

  it('lossState: collapsed and spread share L_cons; only the collapse pays L_reg', async () => {
    const o = { partition: W.partition, partitionSize: 3 };
    const collapsed = lossState('collapsed', { ...o, sharpness: 2 });
    expect(collapsed.studentLogits).toHaveLength(3);
    expect(collapsed.teacherLogits).toHaveLength(2);
    // Blocks {4, 1, 5} and {0, 3, 2}: the first entries are prototypes 4 and 0.
    expect(collapsed.studentLogits[0]).toEqual([
      [2, 0, 0, 0, 2, 0],
      [2, 0, 0, 0, 2, 0],
      [2, 0, 0, 0, 2, 0],
    ]);
    expect(lossState('spread', { ...o, sharpness: 2 }).teacherLogits[1]).toEqual([
      [2, 0, 0, 0, 2, 0],
      [0, 2, 0, 2, 0, 0],
      [0, 0, 2, 0, 0, 2],
    ]);
    // By hand, sharpness t = 2, P = 3: p = (e², 1, 1)/(e² + 2) in every block and image;
    // s = Σp² = 0.64203450, L_cons = −ln s = 0.44311323. Collapsed: m_b = p,
    // KL = ln 3 + Σ p ln p = 0.43303961. Spread: m_b uniform, L_reg = 0.
    const [c] = await sharpnessSweep('collapsed', [2], o);
    const [sp] = await expectNoLeak(() => sharpnessSweep('spread', [2], o));
    expectClose([c.consistency, c.regularizer, c.total], [0.44311323, 0.43303961, 0.87615284]);
    expectClose([sp.consistency, sp.regularizer, sp.total], [0.44311323, 0, 0.44311323], {
      atol: 1e-6,
    });
    expect(sp.sharpness).toBe(2);
    // Sharpness 0 is the uniform collapse for both.
    const [u] = await sharpnessSweep('spread', [0], o);
    expectClose([u.consistency, u.regularizer], [LN3, 0]);
  });
});
