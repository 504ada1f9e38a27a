import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Variable } from '../../src/backend/tf';
import { LARS } from '../../src/optim/lars';
import { isRegularised, parameterGroups } from '../../src/optim/parameterGroups';
import { loadGolden } from '../helpers/golden';
import { expectClose } from '../helpers/tensors';
import { TEST_BACKENDS, useBackend } from '../carp/backends';

type Nested = number | Nested[];
interface LarsCase {
  params: Record<string, Nested>;
  grads: Record<string, Nested>[];
  lr: number[];
  weightDecay: number[];
  momentum: number;
  eta: number;
  expected: Record<string, Nested>[];
}

let counter = 0;
let owned: Variable[] = [];
/** A variable with a unique engine name ending in `suffix` (names are global to the engine). */
function variable(values: Nested, suffix: string): Variable {
  const v = tf.variable(
    tf.tidy(() => tf.tensor(values as number[])),
    true,
    `lars_test_${counter++}/${suffix}`,
  );
  owned.push(v);
  return v;
}
afterEach(() => {
  tf.dispose(owned);
  owned = [];
});

const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

/** Applies one step from plain-number gradients keyed by variable. */
function step(opt: LARS, grads: [Variable, Nested][]): void {
  const map: tf.NamedTensorMap = {};
  for (const [v, g] of grads) map[v.name] = tf.tensor(g as number[]);
  opt.applyGradients(map);
  tf.dispose(Object.values(map));
}

// §5.2 worked example.
const W = [
  [1, 2],
  [3, 4],
];
const GW = [
  [0.1, -0.2],
  [0.3, 0.05],
];
const B = [0.5, -0.5];
const GB = [0.01, -0.02];
const W1 = [0.98955309, 2.02089334, 2.9686594, 3.99477625];
const W2 = [0.96973282, 2.06053305, 2.90919876, 3.98486543];

for (const backend of TEST_BACKENDS) {
  describe(`LARS on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('matches lars.json over three steps with per-step lr and weight decay', () => {
      expect(tf.getBackend()).toBe(backend);
      for (const c of loadGolden<LarsCase>('lars.json').cases) {
        const names = Object.keys(c.params);
        const vars = names.map((n) => variable(c.params[n], n));
        const opt = new LARS({ learningRate: 0, weightDecay: 0, momentum: c.momentum, eta: c.eta });
        c.grads.forEach((g, t) => {
          opt.setLearningRate(c.lr[t]);
          opt.setWeightDecay(c.weightDecay[t]);
          step(
            opt,
            vars.map((v, i) => [v, g[names[i]]]),
          );
          vars.forEach((v, i) =>
            expectClose(v.dataSync(), flat(c.expected[t][names[i]]), {
              atol: 1e-7,
              rtol: 1e-5,
              label: `step ${t} ${names[i]}`,
            }),
          );
        });
        expect(opt.iterations).toBe(3);
        opt.dispose();
      }
    });

    it('reproduces the §5.2 worked example (rank-1: no decay, no trust ratio)', () => {
      const w = variable(W, 'weight');
      const b = variable(B, 'bias');
      const opt = new LARS({ learningRate: 7.2, weightDecay: 1e-6 });
      step(opt, [
        [w, GW],
        [b, GB],
      ]);
      expectClose(w.dataSync(), W1, { label: 'W after 1' });
      expectClose(b.dataSync(), [0.428, -0.356], { label: 'b after 1' });
      step(opt, [
        [w, GW],
        [b, GB],
      ]);
      expectClose(w.dataSync(), W2, { label: 'W after 2' });
      expectClose(b.dataSync(), [0.2912, -0.0824], { label: 'b after 2' });
      opt.dispose();
    });

    it('owns exactly one buffer per parameter: +2 tensors after step 1, flat after step 2, back after dispose', () => {
      const w = variable(W, 'weight');
      const b = variable(B, 'bias');
      const frozen = variable([[1], [2]], 'g'); // frozen gain: never gets a gradient
      const before = tf.memory().numTensors;
      const opt = new LARS({ learningRate: 7.2, weightDecay: 1e-6 });
      step(opt, [
        [w, GW],
        [b, GB],
      ]);
      expect(tf.memory().numTensors).toBe(before + 2);
      const grads = [tf.tensor(GW), tf.tensor(GB)];
      opt.applyGradients([
        { name: w.name, tensor: grads[0] },
        { name: b.name, tensor: grads[1] },
        { name: frozen.name, tensor: null as unknown as tf.Tensor }, // as minimize() passes it
      ]);
      tf.dispose(grads);
      expect(tf.memory().numTensors).toBe(before + 2);
      expect(Array.from(frozen.dataSync())).toEqual([1, 2]);
      opt.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('uses the learning rate set before each step (no cached hyper-parameter tensors)', () => {
      const w = variable(W, 'weight');
      const opt = new LARS({ learningRate: 0, weightDecay: 1e-6 });
      step(opt, [[w, GW]]);
      expect(Array.from(w.dataSync())).toEqual([1, 2, 3, 4]); // lr 0: momentum grows, p unchanged
      opt.setLearningRate(7.2);
      const w2 = variable(W, 'weight');
      const ref = new LARS({ learningRate: 7.2, weightDecay: 1e-6 });
      step(ref, [[w2, GW]]);
      // p was unchanged by the lr-0 step, so the second step sees the same u: M = u + 0.9u,
      // and the move is 1.9 times the reference's first move.
      step(opt, [[w, GW]]);
      const d = [0, 1, 2, 3].map((i) => W[i >> 1][i & 1] - w.dataSync()[i]);
      const d1 = [0, 1, 2, 3].map((i) => W[i >> 1][i & 1] - W1[i]);
      expectClose(
        d,
        d1.map((x) => x * 1.9),
        { rtol: 1e-4, label: 'lr change' },
      );
      opt.dispose();
      ref.dispose();
    });

    it('uses trust ratio 1 for an all-zero parameter', () => {
      const w = variable(
        [
          [0, 0],
          [0, 0],
        ],
        'weight',
      );
      const opt = new LARS({ learningRate: 0.5, weightDecay: 0.1 });
      step(opt, [[w, GW]]);
      expectClose(
        w.dataSync(),
        flat(GW).map((g) => -0.5 * g),
        { label: 'w' },
      );
      opt.dispose();
    });

    it('saves and restores momentum and the step counter (checkpoint round trip)', async () => {
      const w = variable(W, 'weight');
      const b = variable(B, 'bias');
      const opt = new LARS({ learningRate: 7.2, weightDecay: 1e-6 });
      step(opt, [
        [w, GW],
        [b, GB],
      ]);
      const saved = await opt.getWeights();
      expect(saved.map((s) => s.name)).toEqual([
        'iter',
        `${w.name}/momentum`,
        `${b.name}/momentum`,
      ]);
      const copies = saved.map((s) => ({ name: s.name, tensor: tf.clone(s.tensor) }));
      saved[0].tensor.dispose();
      opt.dispose();

      const resumed = new LARS({ learningRate: 7.2, weightDecay: 1e-6 });
      await resumed.setWeights(copies);
      tf.dispose(copies.map((c) => c.tensor));
      expect(resumed.iterations).toBe(1);
      step(resumed, [
        [w, GW],
        [b, GB],
      ]);
      expectClose(w.dataSync(), W2, { label: 'W after resume' });
      expectClose(b.dataSync(), [0.2912, -0.0824], { label: 'b after resume' });
      resumed.dispose();
    });

    it('works through minimize() with a variable list', () => {
      const w = variable(W, 'weight');
      const target = tf.tensor2d(W);
      const opt = new LARS({ learningRate: 0.1, weightDecay: 0 });
      const loss = () => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar;
      opt.minimize(loss, false, [w]); // gradient 0 → trust ratio 1, no change
      expect(Array.from(w.dataSync())).toEqual([1, 2, 3, 4]);
      target.dispose();
      opt.dispose();
    });
  });
}

describe('LARS options and parameter groups', () => {
  it('rejects invalid hyper-parameters by name', () => {
    expect(() => new LARS({ learningRate: -1, weightDecay: 0 })).toThrow(/learningRate/);
    expect(() => new LARS({ learningRate: 1, weightDecay: NaN })).toThrow(/weightDecay/);
    const opt = new LARS({ learningRate: 1, weightDecay: 0 });
    expect(() => opt.setLearningRate(Infinity)).toThrow(/learningRate/);
    expect(opt.getConfig()).toEqual({ learningRate: 1, weightDecay: 0, momentum: 0.9, eta: 0.001 });
    expect(opt.getClassName()).toBe('CarpLARS');
  });

  it('splits parameters as §5.1 says', () => {
    expect(isRegularised('conv1.weight', 4)).toBe(true);
    expect(isRegularised('fc.bias', 2)).toBe(false);
    expect(isRegularised('dense/bias', 2)).toBe(false);
    expect(isRegularised('bn1.weight', 1)).toBe(false);
    expect(
      parameterGroups([
        { name: 'conv1/kernel', shape: [3, 3, 3, 64] },
        { name: 'bn1/gamma', shape: [64] },
        { name: 'head/prototypes/v', shape: [256, 10] },
        { name: 'head/prototypes/g', shape: [10, 1], trainable: false },
        { name: 'head/fc/bias', shape: [256] },
      ]),
    ).toEqual({
      regularised: ['conv1/kernel', 'head/prototypes/v'],
      unregularised: ['bn1/gamma', 'head/fc/bias'],
    });
  });
});
