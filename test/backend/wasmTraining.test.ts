/**
 * End to end on wasm with our kernels (src/backend/wasmKernels.ts): a 2-block mini
 * ResNet + CARP-style head (7×7/2 stem, batch norm in training mode, max-pool, basic
 * blocks with identity and projection shortcuts, global mean, GELU projection,
 * L2-normalised prototypes, a random partition gathered and softmaxed per block).
 * `tf.variableGrads` of every variable matches the cpu backend, and repeated steps
 * leave no tensor behind.
 */
import { beforeAll, describe, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import { expectNoLeak } from '../helpers/tensors';
import { expectAllClose, initBothBackends, makeValues, type Pad } from './compareBackends';

beforeAll(initBothBackends);

/** Batch norm in training mode, as a model writes it. */
function batchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta);
}
const conv = (x: tf.Tensor, w: tf.Tensor, s: number, p: Pad = 'same') =>
  tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p);
const l2 = (x: tf.Tensor, axis: number) =>
  tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis, true), 1e-12)));

/** Parameter shapes of the mini ResNet + CARP head, in the order `miniCarp` takes them. */
const MINI_PARAMS: number[][] = [
  [7, 7, 3, 8],
  [8],
  [8], // stem 7×7/2 pad 3, then max-pool 3×3/2
  [3, 3, 8, 8],
  [8],
  [8],
  [3, 3, 8, 8],
  [8],
  [8], // block 1, identity shortcut
  [3, 3, 8, 16],
  [16],
  [16],
  [3, 3, 16, 16],
  [16],
  [16], // block 2, stride 2
  [1, 1, 8, 16],
  [16],
  [16], // block 2 projection shortcut
  [16, 12],
  [12], // projection head (GELU)
  [12, 20], // prototypes (L2-normalised columns)
];
const PARTITION = Array.from(createRng(11).permutation(20)); // 4 blocks of 5 prototypes

/** A 2-block ResNet + CARP-style head: logits of a random partition, softmax per block. */
function miniCarp(x: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor {
  let h = tf.relu(
    batchNorm(
      conv(x, p[0], 2, [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ]),
      p[1],
      p[2],
    ),
  );
  h = tf.maxPool(h as tf.Tensor4D, 3, 2, 'same');
  let a = tf.relu(batchNorm(conv(h, p[3], 1), p[4], p[5]));
  h = tf.relu(tf.add(batchNorm(conv(a, p[6], 1), p[7], p[8]), h));
  a = tf.relu(batchNorm(conv(h, p[9], 2), p[10], p[11]));
  const shortcut = batchNorm(conv(h, p[15], 2), p[16], p[17]);
  h = tf.relu(tf.add(batchNorm(conv(a, p[12], 1), p[13], p[14]), shortcut));
  const z = tf.add(tf.matMul(tf.mean(h, [1, 2]), p[18]), p[19]);
  const g = tf.mul(tf.mul(z, 0.5), tf.add(1, tf.erf(tf.mul(z, Math.SQRT1_2))));
  const logits = tf.div(tf.matMul(l2(g, 1), l2(p[20], 0)), 0.1);
  const blocks = tf.reshape(tf.gather(logits, tf.tensor1d(PARTITION, 'int32'), 1), [-1, 4, 5]);
  const probs = tf.softmax(blocks);
  return tf.neg(tf.mean(tf.sum(tf.mul(probs, tf.logSoftmax(blocks)), -1)));
}

/** Loss and `tf.variableGrads` of every variable of `miniCarp`, on one backend. */
async function miniCarpStep(backend: string, values: Float32Array[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const x = tf.tensor(values[0], [2, 16, 16, 3]);
  // tidy releases the initial-value tensors; the variables keep their own reference.
  const vars = tf.tidy(() =>
    MINI_PARAMS.map((shape, i) => tf.variable(tf.tensor(values[i + 1], shape))),
  );
  const { value, grads } = tf.variableGrads(() => miniCarp(x, ...vars) as tf.Scalar, vars);
  const outs = [value, ...vars.map((v) => grads[v.name])];
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, ...vars, ...outs]);
  return data;
}

describe('end to end: mini ResNet + CARP head', () => {
  const values = [[2, 16, 16, 3], ...MINI_PARAMS].map((shape) => makeValues({ shape }));

  it('loss and the gradient of every variable match cpu (tf.variableGrads)', async () => {
    const wasm = await miniCarpStep('wasm', values);
    const cpu = await miniCarpStep('cpu', values);
    await tf.setBackend('wasm');
    expectAllClose(wasm, cpu, (k) =>
      k === 0 ? 'loss' : `grad of variable ${k - 1} [${MINI_PARAMS[k - 1]}]`,
    );
  });

  it('repeated training steps keep numTensors flat', async () => {
    await tf.setBackend('wasm');
    await miniCarpStep('wasm', values); // a first step may create lasting state (none expected)
    for (let i = 0; i < 3; i++) await expectNoLeak(() => miniCarpStep('wasm', values));
  });
});

describe('no tensor leak', () => {
  it('repeated gradient calls through every replaced kernel keep numTensors flat', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(makeValues({ shape: [2, 8, 8, 3] }), [2, 8, 8, 3]);
    const w = tf.tensor4d(makeValues({ shape: [3, 3, 3, 4] }), [3, 3, 3, 4]);
    const v = tf.tensor2d(makeValues({ shape: [4, 40] }), [4, 40]);
    const idx = tf.tensor1d([1, 0, 1, 3], 'int32');
    const step = () => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
        const y = tf.maxPool(
          tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')),
          3,
          2,
          'same',
        );
        const z = tf.matMul(tf.gather(tf.mean(y, [1, 2]), idx, 1), c); // [2, 40]
        return tf.sum(tf.matMul(z, z, false, true)); // transposed product: our BatchMatMul
      })([x, w, v]);
      tf.dispose(g);
    };
    step(); // a first call may create lasting state (none expected)
    for (let i = 0; i < 3; i++) await expectNoLeak(step);
    tf.dispose([x, w, v, idx]);
  });
});
