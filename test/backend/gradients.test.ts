/**
 * Every gradient a ResNet + CARP head needs, on wasm (with our kernels, src/backend/
 * wasmKernels.ts) against the pure-JS cpu backend as reference, on identical inputs
 * (architecture §7.4). Values and gradients must agree to float32 rounding. The end-to-end
 * model and the leak checks are in wasmTraining.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { useWasmKernel } from '../../src/backend/wasmKernels';
import { createRng } from '../../src/random';
import {
  KERNEL_MODES,
  compare,
  expectAllClose,
  initBothBackends,
  makeValues,
  setKernelMode,
  type Pad,
} from './compareBackends';

beforeAll(initBothBackends);
afterAll(() => tf.setBackend('wasm'));

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
  // Wider channels: the native kernels run these on oneDNN's blocked direct kernels (its
  // backward data takes ≥ 4 input channels), the cases above partly on im2col.
  ['2×2/1 same, even filter (pad 0 before, 1 after)', [2, 6, 6, 8], [2, 2, 8, 5], 1, 'same'],
  ['4×4/2 same, even filter, batch 1', [1, 9, 9, 6], [4, 4, 6, 7], 2, 'same'],
  ['3×3/1 same, 1 input channel (a grey-scale stem)', [2, 8, 8, 1], [3, 3, 1, 16], 1, 'same'],
  ['3×3/2 same, 16 → 32 channels, batch 1', [1, 9, 9, 16], [3, 3, 16, 32], 2, 'same'],
  [
    '1×1/2 valid, 64 → 128 channels (a downsample shortcut)',
    [2, 7, 7, 64],
    [1, 1, 64, 128],
    2,
    'valid',
  ],
  ['3×3/1 same on a 2×2 map, 32 → 64 channels', [3, 2, 2, 32], [3, 3, 32, 64], 1, 'same'],
  [
    '7×7/2 pad 3, 8 channels',
    [2, 13, 11, 8],
    [7, 7, 8, 16],
    2,
    [
      [0, 0],
      [3, 3],
      [3, 3],
      [0, 0],
    ],
  ],
  [
    '3×3/2 explicit asymmetric, 8 channels',
    [1, 8, 7, 8],
    [3, 3, 8, 5],
    2,
    [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  ],
  ['5×5/3 same, 5 → 7 channels', [2, 10, 11, 5], [5, 5, 5, 7], 3, 'same'],
];

describe.each(KERNEL_MODES)('conv2d on wasm (%s kernels) matches cpu (value, dx, dw)', (mode) => {
  beforeAll(() => setKernelMode(mode));
  afterAll(() => setKernelMode(KERNEL_MODES[0]));
  for (const [name, xs, ws, strides, pad] of convCases) {
    it(name, () =>
      compare(
        `conv ${name}`,
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad),
        [{ shape: xs }, { shape: ws }],
      ),
    );
  }
  it('dilated 3×3 (forward only: tfjs has no dilated conv gradient)', async () => {
    const x = tf.randomNormal([2, 9, 9, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 6) as tf.Tensor4D;
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const y = tf.conv2d(x, w, 1, 'same', 'NHWC', 2);
      const v = (await y.data()) as Float32Array;
      y.dispose();
      return v;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    await tf.setBackend('wasm');
    expectAllClose([wasm], [cpu], () => 'dilated conv');
    tf.dispose([x, w]);
  });
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

describe.each(KERNEL_MODES)('pooling (%s kernels)', (mode) => {
  beforeAll(() => setKernelMode(mode));
  afterAll(() => setKernelMode(KERNEL_MODES[0]));
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

describe.each(KERNEL_MODES)('matMul on wasm (%s kernels) matches cpu', (mode) => {
  beforeAll(() => setKernelMode(mode));
  afterAll(() => setKernelMode(KERNEL_MODES[0]));
  // Pure wasm: small products stay on wasm's built-in loop, larger ones go through ours.
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
  it('batched matMul broadcasting a batch of 1, and rank 4 (forward: tfjs has no broadcast gradient)', async () => {
    for (const [sa, sb, tb] of [
      [[1, 6, 7], [3, 7, 5], false],
      [[2, 2, 6, 7], [5, 7], true],
    ] as [number[], number[], boolean][]) {
      const a = tf.tensor(makeValues({ shape: sa }), sa);
      const b = tf.tensor(makeValues({ shape: sb }), sb);
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const c = tf.matMul(a, b, false, tb);
        const out = { shape: c.shape, values: (await c.data()) as Float32Array };
        c.dispose();
        return out;
      };
      const wasm = await run('wasm');
      const cpu = await run('cpu');
      await tf.setBackend('wasm');
      expect(wasm.shape).toEqual(cpu.shape);
      expectAllClose([wasm.values], [cpu.values], () => `matMul [${sa}]·[${sb}]`);
      tf.dispose([a, b]);
    }
  });
});

describe('dense layers and the CARP head', () => {
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
