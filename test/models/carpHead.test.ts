import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import {
  carpHeadForward,
  initCarpHead,
  projectionForward,
  prototypeWeights,
  type HeadSpec,
} from '../../src/models/carpHead';
import { ParamStore, torchShape } from '../../src/models/params';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';
import { loadTorchKeys } from './torchFixtures';

const small: HeadSpec = {
  inDim: 12,
  hiddenDim: 20,
  bottleneckDim: 8,
  numPrototypes: 30,
  batchNorm: true,
  numLayers: 3,
};

function build(spec: HeadSpec, seed = 0): ParamStore {
  const s = new ParamStore('head');
  initCarpHead(s.scope('head.'), spec, createRng(seed));
  return s;
}

describe('CARP head', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('names, order and shapes equal the reference head (paper sizes, with and without BN)', () => {
    const keys = loadTorchKeys();
    const paper: HeadSpec = {
      inDim: 2048,
      hiddenDim: 2048,
      bottleneckDim: 256,
      numPrototypes: 65536,
      batchNorm: true,
      numLayers: 3,
    };
    const a = build(paper);
    expect(a.names().map((n) => [n.slice('head.'.length), torchShape(a.get(n).shape)])).toEqual(
      keys.carp_head,
    );
    expect(a.kind('head.last_layer.weight_g')).toBe('frozen');
    expect(a.names('frozen')).toEqual(['head.last_layer.weight_g']);
    a.dispose();
    const b = build({ ...paper, inDim: 512, numPrototypes: 1000, batchNorm: false });
    expect(b.names().map((n) => [n.slice('head.'.length), torchShape(b.get(n).shape)])).toEqual(
      keys.carp_head_nobn,
    );
    b.dispose();
  });

  it('initialisation: trunc-normal(0.02) MLP, zero biases, U(±1/√d) directions, g = 1', () => {
    const s = build({ ...small, inDim: 256, hiddenDim: 512 });
    const w = s.get('head.mlp.3.weight').dataSync();
    let s2 = 0;
    for (const v of w) s2 += v * v;
    expect(Math.sqrt(s2 / w.length)).toBeGreaterThan(0.0195);
    expect(Math.sqrt(s2 / w.length)).toBeLessThan(0.0205);
    expect(
      s
        .get('head.mlp.6.bias')
        .dataSync()
        .every((v) => v === 0),
    ).toBe(true);
    const v = s.get('head.last_layer.weight_v').dataSync();
    const bound = 1 / Math.sqrt(8);
    expect(v.every((x) => Math.abs(x) <= bound)).toBe(true);
    expect(Math.max(...v)).toBeGreaterThan(0.9 * bound);
    expect(
      s
        .get('head.last_layer.weight_g')
        .dataSync()
        .every((x) => x === 1),
    ).toBe(true);
    s.dispose();
  });

  it('prototypes are unit-norm rows; logits = ⟨z, c_k⟩ with z un-normalised', async () => {
    const s = build(small);
    const p = s.scope('head.');
    const h = tf.randomNormal([5, 12], 0, 1, 'float32', 3) as Tensor2D;
    await expectNoLeak(() => {
      const c = prototypeWeights(p);
      const norms = tf.tidy(() => tf.norm(c, 'euclidean', 1));
      expectClose(norms.dataSync(), new Array(30).fill(1), { atol: 1e-6 });
      const z = projectionForward(p, small, h, { training: false });
      const logits = carpHeadForward(p, small, h, { training: false });
      expect(logits.shape).toEqual([5, 30]);
      const manual = tf.tidy(() => tf.matMul(z, c, false, true));
      expectClose(logits.dataSync(), manual.dataSync(), { atol: 1e-6 });
      tf.dispose([c, norms, z, logits, manual]);
    });
    h.dispose();
    s.dispose();
  });

  it('gradient reaches weight_v through the normalisation, not the frozen g (student store)', () => {
    const s = build(small);
    const p = s.scope('head.');
    const h = tf.randomNormal([5, 12], 0, 1, 'float32', 4) as Tensor2D;
    const vars = s.trainableVariables();
    expect(vars.map((v) => s.paramNameOf(v.name))).not.toContain('head.last_layer.weight_g');
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(carpHeadForward(p, small, h, { training: true }))),
      vars,
    );
    const gv = grads[s.varName('head.last_layer.weight_v')];
    // Row-wise the gradient is orthogonal to v (scale invariance of v/‖v‖).
    const dots = tf.tidy(() => tf.sum(tf.mul(gv, s.get('head.last_layer.weight_v')), 1));
    expectClose(dots.dataSync(), new Array(30).fill(0), { atol: 1e-5 });
    expect(grads[s.varName('head.last_layer.weight_g')]).toBeUndefined();
    tf.dispose([value, dots, h, ...Object.values(grads)]);
    s.dispose();
  });

  it('one-layer variant and validation', () => {
    const s = build({ ...small, numLayers: 1 });
    expect(s.names()).toEqual([
      'head.mlp.weight',
      'head.mlp.bias',
      'head.last_layer.weight_g',
      'head.last_layer.weight_v',
    ]);
    s.dispose();
    expect(() => build({ ...small, numPrototypes: 0 })).toThrow(/numPrototypes/);
  });
});
