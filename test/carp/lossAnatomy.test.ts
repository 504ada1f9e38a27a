import { beforeAll, describe, expect, it } from 'vitest';
import { carpLossAnatomy, repeatLogits } from '../../src/carp/lossAnatomy';
import { WORKED_EXAMPLE as W } from '../../src/carp/workedExample';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const LN3 = 1.0986122886681098;

describe('carpLossAnatomy', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('reproduces every number of the §4.5 worked example', async () => {
    const a = await expectNoLeak(() =>
      carpLossAnatomy({
        studentLogits: W.studentLogits.map((v) => v.map((r) => [...r])),
        teacherLogits: W.teacherLogits.map((v) => v.map((r) => [...r])),
        partition: W.partition,
        partitionSize: W.partitionSize,
      }),
    );
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
    // ‖∂L/∂ℓ‖ of the §4.5 gradient table: 0.08387061 (its 36 entries, squared and summed).
    expectClose([a.gradientNorms.total], [0.08387061], { atol: 1e-6 });
  });

  it('λ weighs L_reg in the total only', async () => {
    const a = await carpLossAnatomy({
      studentLogits: W.studentLogits.map((v) => v.map((r) => [...r])),
      teacherLogits: W.teacherLogits.map((v) => v.map((r) => [...r])),
      partition: W.partition,
      partitionSize: W.partitionSize,
      regWeight: 0,
    });
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
});
