/**
 * Every gradient a ResNet + CARP head needs, on wasm (with our kernels, src/backend/
 * wasmKernels.ts) against the pure-JS cpu backend as reference, on identical inputs
 * (ENVIRONMENT.md §4). Values and gradients must agree to float32 rounding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
// tfjs-core's node entry registers no gradients; vitest resolves its ESM registration
// file. It must come after tf.ts: the first tfjs-core copy loaded creates the engine.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { useWasmKernel } from '../../src/backend/wasmKernels';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
interface Input {
  shape: number[];
  /** 'normal' (default), 'ties' (small integers: many equal values), or fixed values. */
  values?: 'normal' | 'ties' | number[];
}

let seed = 1;
function makeValues(input: Input): Float32Array {
  const n = input.shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(input.values)) return Float32Array.from(input.values);
  const rng = createRng(seed++);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = input.values === 'ties' ? rng.int(3) : rng.normal();
  return out;
}

/**
 * Value of `f` and gradients of `Σ f(xs)·r` (r a fixed random cotangent) on one backend;
 * `Σ …·r` rather than a plain sum so every output element carries a different `dy`.
 */
async function valueAndGrads(
  backend: string,
  f: Fn,
  inputs: Float32Array[],
  shapes: number[][],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const y = f(...xs);
    const r = tf.cos(tf.reshape(tf.mul(tf.range(0, y.size), 0.731), y.shape));
    const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(xs);
    return [y, ...g];
  });
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

function scaleOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Asserts value and every input gradient of `f` agree between wasm and cpu. */
async function compare(name: string, f: Fn, inputs: Input[], tol = 1e-4): Promise<void> {
  const values = inputs.map(makeValues);
  const shapes = inputs.map((i) => i.shape);
  const wasm = await valueAndGrads('wasm', f, values, shapes);
  const cpu = await valueAndGrads('cpu', f, values, shapes);
  await tf.setBackend('wasm');
  cpu.forEach((ref, k) => {
    const label = `${name}: ${k === 0 ? 'value' : `grad of input ${k - 1}`}`;
    expect(scaleOf(ref), `${label} is all zero`).toBeGreaterThan(0);
    expectClose(wasm[k], ref, { atol: tol * Math.max(1, scaleOf(ref)), rtol: tol, label });
  });
}

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
});
afterAll(() => tf.setBackend('wasm'));

type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];
const convCases: [string, number[], number[], number | [number, number], Pad][] = [
  ['3×3/1 same', [2, 7, 7, 3], [3, 3, 3, 4], 1, 'same'],
  ['3×3/2 same, even size (pad 0/1)', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
  ['3×3/2 same, odd size (pad 1/1)', [2, 7, 9, 3], [3, 3, 3, 4], 2, 'same'],
  ['3×3/1 valid', [2, 7, 6, 3], [3, 3, 3, 4], 1, 'valid'],
  ['3×3/2 valid, last row unused', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'valid'],
  ['3×3/1 pad 1 (number)', [1, 5, 5, 2], [3, 3, 2, 3], 1, 1],
  ['1×1/1', [2, 5, 5, 4], [1, 1, 4, 6], 1, 'same'],
  ['1×1/2 even', [2, 6, 6, 4], [1, 1, 4, 6], 2, 'same'],
  ['1×1/2 odd', [2, 7, 7, 4], [1, 1, 4, 6], 2, 'valid'],
  [
    '7×7/2 pad 3 (ResNet stem)',
    [2, 11, 11, 3],
    [7, 7, 3, 4],
    2,
    [
      [0, 0],
      [3, 3],
      [3, 3],
      [0, 0],
    ],
  ],
  [
    '3×3/2 explicit asymmetric',
    [1, 8, 7, 2],
    [3, 3, 2, 3],
    2,
    [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  ],
  ['2×2/2 valid', [2, 6, 6, 3], [2, 2, 3, 4], 2, 'valid'],
  ['3×3 strides [2,1] same', [1, 7, 6, 2], [3, 3, 2, 3], [2, 1], 'same'],
  ['5×5/3 same', [1, 10, 11, 2], [5, 5, 2, 3], 3, 'same'],
];

describe('conv2d on wasm matches cpu (value, dx, dw)', () => {
  for (const [name, xs, ws, strides, pad] of convCases) {
    it(name, () =>
      compare(
        `conv ${name}`,
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad),
        [{ shape: xs }, { shape: ws }],
      ),
    );
  }
});

describe('batch norm in training mode', () => {
  const eps = 1e-5;
  it('moments over [0,1,2], then (x−mean)·rsqrt(var+eps)·γ+β', () =>
    compare(
      'batch norm (moments)',
      (x, gamma, beta) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.add(
          tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), gamma),
          beta,
        );
      },
      [{ shape: [4, 5, 5, 6] }, { shape: [6] }, { shape: [6] }],
    ));
  it('tf.batchNorm with batch moments (FusedBatchNorm forward)', () =>
    compare(
      'tf.batchNorm',
      (x, gamma, beta) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x, mean, variance, beta, gamma, eps);
      },
      [{ shape: [3, 4, 4, 5] }, { shape: [5] }, { shape: [5] }],
    ));
});

/** sin(1.7·i), 4×4: the top-right 2×2 window is all negative (its max is −0.255). */
const NEGATIVE_WINDOW = Array.from({ length: 16 }, (_, i) => Math.sin(1.7 * i));

describe('pooling', () => {
  const maxPool = (f: number, s: number, p: 'same' | 'valid') => (x: tf.Tensor) =>
    tf.maxPool(x as tf.Tensor4D, f, s, p);
  it('max-pool 2×2/2 on 4×4, one channel (the built-in loses a window)', () =>
    compare('maxPool 2/2 4×4', maxPool(2, 2, 'valid'), [
      { shape: [1, 4, 4, 1], values: NEGATIVE_WINDOW },
    ]));
  it('max-pool 3×3/2 same (ResNet stem)', () =>
    compare('maxPool 3/2 same', maxPool(3, 2, 'same'), [{ shape: [2, 9, 8, 3] }]));
  it('max-pool 2×2/2 valid, odd size, batch 2', () =>
    compare('maxPool 2/2 odd', maxPool(2, 2, 'valid'), [{ shape: [2, 5, 7, 2] }]));
  it('max-pool 3×3/1 same', () =>
    compare('maxPool 3/1', maxPool(3, 1, 'same'), [{ shape: [1, 5, 5, 2] }]));
  it('max-pool with ties goes to the first maximum (cpu rule)', () =>
    compare('maxPool ties', maxPool(3, 2, 'same'), [{ shape: [2, 7, 7, 2], values: 'ties' }]));
  it('max-pool after ReLU (windows of zeros)', () =>
    compare('maxPool relu', (x) => maxPool(3, 2, 'same')(tf.relu(x)), [{ shape: [2, 6, 6, 2] }]));
  it('avg-pool 2×2/2 valid and 3×3/1 same', async () => {
    await compare('avgPool 2/2', (x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [
      { shape: [2, 6, 6, 3] },
    ]);
    await compare('avgPool 3/1 same', (x) => tf.avgPool(x as tf.Tensor4D, 3, 1, 'same'), [
      { shape: [1, 5, 5, 2] },
    ]);
  });
  it('global mean over [1,2]', () =>
    compare('mean', (x) => tf.mean(x, [1, 2]), [{ shape: [3, 4, 5, 6] }]));
  it('the built-in MaxPoolGrad is wrong (why we replace it)', async () => {
    useWasmKernel(tf.MaxPoolGrad, 'builtin');
    try {
      await expect(
        compare('builtin maxPool', maxPool(2, 2, 'valid'), [
          { shape: [1, 4, 4, 1], values: NEGATIVE_WINDOW },
        ]),
      ).rejects.toThrow(/grad of input 0/);
    } finally {
      useWasmKernel(tf.MaxPoolGrad, 'ours');
    }
  });
});

describe('dense layers and the CARP head', () => {
  // Small products stay on wasm's built-in loop, larger ones go through our kernel.
  for (const [m, k, n] of [
    [3, 4, 5],
    [40, 30, 50],
  ]) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`matMul ${m}×${k}·${k}×${n} transposeA=${ta} transposeB=${tb}`, () =>
        compare('matMul', (a, b) => tf.matMul(a, b, ta, tb), [
          { shape: ta ? [k, m] : [m, k] },
          { shape: tb ? [n, k] : [k, n] },
        ]));
    }
  }
  it('batched matMul, small and large', async () => {
    await compare('batched matMul', (a, b) => tf.matMul(a, b, false, true), [
      { shape: [2, 3, 4] },
      { shape: [2, 5, 4] },
    ]);
    await compare('batched matMul large', (a, b) => tf.matMul(a, b, true, false), [
      { shape: [3, 40, 32] },
      { shape: [3, 40, 30] },
    ]);
  });
  it('GELU exact: 0.5·x·(1 + erf(x/√2))', () =>
    compare('gelu', (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))), [
      { shape: [4, 7] },
    ]));
  it('relu', () => compare('relu', (x) => tf.relu(x), [{ shape: [3, 8] }]));
  it('softmax and logSoftmax', async () => {
    await compare('softmax', (x) => tf.softmax(tf.mul(x, 3)), [{ shape: [5, 9] }]);
    await compare('logSoftmax', (x) => tf.logSoftmax(tf.mul(x, 3)), [{ shape: [5, 9] }]);
  });
  it('gather rows (axis 0, repeated indices) → UnsortedSegmentSum', () =>
    compare('gather axis 0', (x) => tf.gather(x, tf.tensor1d([0, 3, 3, 9, 1, 3], 'int32')), [
      { shape: [10, 4] },
    ]));
  it('gather prototype columns by a partition (axis 1)', () => {
    const perm = createRng(7).permutation(12);
    return compare('gather axis 1', (x) => tf.gather(x, tf.tensor1d(perm, 'int32'), 1), [
      { shape: [3, 12] },
    ]);
  });
  it('L2-normalise (sqrt of clamped sum of squares, and tf.norm)', async () => {
    await compare(
      'l2 normalise',
      (x) => tf.div(x, tf.sqrt(tf.maximum(tf.sum(tf.square(x), -1, true), 1e-12))),
      [{ shape: [4, 6] }],
    );
    await compare('tf.norm', (x) => tf.div(x, tf.norm(x, 'euclidean', -1, true)), [
      { shape: [4, 6] },
    ]);
  });
});

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
    cpu.forEach((ref, k) => {
      const label = k === 0 ? 'loss' : `grad of variable ${k - 1} [${MINI_PARAMS[k - 1]}]`;
      expect(scaleOf(ref), `${label} is all zero`).toBeGreaterThan(0);
      expectClose(wasm[k], ref, { atol: 1e-4 * Math.max(1, scaleOf(ref)), rtol: 1e-4, label });
    });
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
