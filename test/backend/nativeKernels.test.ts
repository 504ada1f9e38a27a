/**
 * The native (oneDNN) kernels on wasm (src/backend/native): their presence where CI
 * requires it, batch norm through src/models/layers.ts against the cpu composite, the
 * fallbacks (NCHW, int32), determinism, thread counts, bounds checks and switching.
 * Convolutions and matMuls are compared with cpu in both kernel modes by gradients.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { loadNative, setNativeThreads, threadsFromEnv } from '../../src/backend/native/addon';
import { BN_FORWARD } from '../../src/backend/native/batchNormKernels';
import { describeNative } from '../../src/backend/selectBackend';
import { activeNativeKernels, useNativeKernels } from '../../src/backend/wasmKernels';
import {
  BN_EPS,
  BatchNormUpdates,
  batchNorm,
  batchNormAddRelu,
  batchNormRelu,
  initBatchNorm,
} from '../../src/models/layers';
import { ParamStore, type ParamScope } from '../../src/models/params';
import { expectClose, expectNoLeak } from '../helpers/tensors';
import { compare, initBothBackends, makeValues, scaleOf } from './compareBackends';

const native = loadNative();
const available = native.addon !== undefined;

beforeAll(initBothBackends);
afterAll(async () => {
  if (available) useNativeKernels(true);
  await tf.setBackend('wasm');
});

describe('availability', () => {
  it('the addon loads where CI requires it, or says why not', () => {
    if (process.env.CARP_REQUIRE_NATIVE === '1') {
      expect(native.reason, 'native kernels required (CARP_REQUIRE_NATIVE=1)').toBeUndefined();
    }
    if (!available) expect(native.reason).toMatch(/CARP_NATIVE=0|not built|failed to load/);
  });

  it('CARP_THREADS is validated with the variable named', () => {
    expect(threadsFromEnv({ CARP_THREADS: '3' })).toBe(3);
    expect(() => threadsFromEnv({ CARP_THREADS: 'two' })).toThrow(/CARP_THREADS="two"/);
    expect(() => threadsFromEnv({ CARP_THREADS: '0' })).toThrow(/1 to 1024/);
  });
});

/** A scope over given γ, β (training mode reads nothing else unless stats are recorded). */
function scopeOf(gamma: tf.Tensor, beta: tf.Tensor): ParamScope {
  return {
    prefix: '',
    get: (name) => (name.endsWith('weight') ? gamma : beta) as tf.Variable,
    add: () => {
      throw new Error('not used');
    },
  };
}

const bnTrain = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
  batchNorm(scopeOf(gamma, beta), 'bn', x as tf.Tensor4D, { training: true });
const bnReluTrain = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) =>
  batchNormRelu(scopeOf(gamma, beta), 'bn', x as tf.Tensor4D, { training: true });
const bnAddReluTrain = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, res: tf.Tensor) =>
  batchNormAddRelu(scopeOf(gamma, beta), 'bn', x as tf.Tensor4D, res as tf.Tensor4D, {
    training: true,
  });

/** A scope over γ, β and the running statistics (what evaluation mode reads). */
function evalScopeOf(g: tf.Tensor, b: tf.Tensor, rm: tf.Tensor, rv: tf.Tensor): ParamScope {
  const byName: Record<string, tf.Tensor> = {
    'bn.weight': g,
    'bn.bias': b,
    'bn.running_mean': rm,
    'bn.running_var': rv,
  };
  return {
    prefix: '',
    get: (name) => byName[name] as tf.Variable,
    add: () => {
      throw new Error('not used');
    },
  };
}
const EVAL = { training: false };
const bnEval = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, rm: tf.Tensor, rv: tf.Tensor) =>
  batchNorm(evalScopeOf(g, b, rm, rv), 'bn', x as tf.Tensor4D, EVAL);
const bnReluEval = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, rm: tf.Tensor, rv: tf.Tensor) =>
  batchNormRelu(evalScopeOf(g, b, rm, rv), 'bn', x as tf.Tensor4D, EVAL);
const bnAddReluEval = (
  x: tf.Tensor,
  g: tf.Tensor,
  b: tf.Tensor,
  rm: tf.Tensor,
  rv: tf.Tensor,
  res: tf.Tensor,
) => batchNormAddRelu(evalScopeOf(g, b, rm, rv), 'bn', x as tf.Tensor4D, res as tf.Tensor4D, EVAL);

describe.runIf(available)('native kernels', () => {
  beforeAll(() => useNativeKernels(true));

  it('are installed on wasm and named in the backend log line', () => {
    const summary = activeNativeKernels();
    expect(summary?.blasCore).toMatch(/\w+/);
    expect(summary!.threads).toBeGreaterThanOrEqual(1);
    expect(describeNative(summary!)).toMatch(
      /^native kernels on \(oneDNN \d+\.\d+\.\d+ \w+, \d+ threads\)$/,
    );
    expect(tf.getKernel(BN_FORWARD, 'wasm')).toBeDefined();
  });

  it('batch norm in training mode (value, dx, dγ, dβ) matches the cpu composite', async () => {
    await compare('bn 4-D', bnTrain, [{ shape: [4, 5, 5, 6] }, { shape: [6] }, { shape: [6] }]);
    // More rows than the 64 reduction blocks, split over threads.
    await compare('bn many rows', bnTrain, [
      { shape: [8, 16, 16, 32] },
      { shape: [32] },
      { shape: [32] },
    ]);
    await compare('bn 2-D (head)', bnTrain, [{ shape: [12, 9] }, { shape: [9] }, { shape: [9] }]);
    // The narrow widths' lane layouts (16 lanes = 2 rows of 8 channels, one row of 16),
    // with a row count that leaves a tail after the last whole chunk (75 = 37·2 + 1).
    await compare('bn 8 channels', bnTrain, [
      { shape: [3, 5, 5, 8] },
      { shape: [8] },
      { shape: [8] },
    ]);
    await compare('bn 16 channels', bnTrain, [
      { shape: [2, 7, 7, 16] },
      { shape: [16] },
      { shape: [16] },
    ]);
    // A large mean over a small spread (σ/μ = 10⁻⁵): the one-pass statistics are shifted
    // by a sample of each channel, so nothing cancels.
    const n = 3 * 5 * 5 * 8;
    await compare('bn large mean', bnTrain, [
      {
        shape: [3, 5, 5, 8],
        values: Array.from({ length: n }, (_, i) => 1000 + (i % 8) + 0.01 * Math.sin(i * 1.7)),
      },
      { shape: [8] },
      { shape: [8] },
    ]);
    await compare('bn+relu 8 channels', bnReluTrain, [
      { shape: [3, 5, 5, 8] },
      { shape: [8] },
      { shape: [8], values: [-1, -0.5, 0, 0.2, 0.5, 1, -0.2, 0.1] },
    ]);
  });

  it('batch norm + fused ReLU (value, dx, dγ, dβ) matches relu(batchNorm) on cpu', async () => {
    // β shifted so about half the outputs are clipped, per channel differently.
    await compare('bn+relu 4-D', bnReluTrain, [
      { shape: [4, 5, 5, 6] },
      { shape: [6] },
      { shape: [6], values: [-1, -0.5, 0, 0.2, 0.5, 1] },
    ]);
    await compare('bn+relu 2-D', bnReluTrain, [{ shape: [12, 9] }, { shape: [9] }, { shape: [9] }]);
    // Evaluation mode, fused on the native kernel too: running statistics 0 and 1 here.
    const s = new ParamStore('bn-eval');
    initBatchNorm(s.scope(''), 'bn', 3);
    const x = tf.tensor2d([-2, 0, 3, 1, -1, 2], [2, 3]);
    const y = batchNormRelu(s.scope(''), 'bn', x, { training: false });
    const sd = Math.sqrt(1 + BN_EPS);
    expectClose(y.dataSync(), [0, 0, 3 / sd, 1 / sd, 0, 2 / sd]);
    tf.dispose([x, y]);
    s.dispose();
  });

  it('evaluation-mode batch norm (plain, + ReLU, + residual + ReLU): values and gradients of x, γ, β, running μ, σ², residual match cpu', async () => {
    const c = 5;
    const stats = (shape: number[]) => [
      { shape: [c] },
      { shape: [c], values: [-0.6, -0.2, 0, 0.3, 0.7] },
      { shape: [c], values: [0.5, -1, 0.25, 2, -0.1] },
      { shape: [c], values: [0.3, 1.5, 0.8, 2.5, 1.1] },
      ...(shape.length ? [{ shape }] : []),
    ];
    // Odd channel counts, rank 4 and 2, more rows than one thread's share.
    await compare('bn eval 4-D', bnEval, [{ shape: [3, 4, 4, c] }, ...stats([])]);
    await compare('bn eval 2-D', bnEval, [{ shape: [7, c] }, ...stats([])]);
    await compare('bn+relu eval', bnReluEval, [{ shape: [3, 5, 7, c] }, ...stats([])]);
    await compare('bn+add+relu eval', bnAddReluEval, [
      { shape: [40, 16, 16, c] },
      ...stats([40, 16, 16, c]),
    ]);
    // One native kernel per layer, and no tensor left behind (value and gradients).
    const x = tf.randomNormal([2, 3, 3, c]);
    const res = tf.randomNormal([2, 3, 3, c]);
    const [g, b, rm, rv] = [tf.ones([c]), tf.zeros([c]), tf.zeros([c]), tf.ones([c])];
    const info = await tf.profile(() => bnAddReluEval(x, g, b, rm, rv, res));
    expect(info.kernelNames).toContain('CarpBatchNormInference');
    expect(info.kernelNames).not.toContain('Relu');
    tf.dispose(info.result as tf.Tensor);
    await expectNoLeak(() =>
      tf.dispose(
        tf.grads((a, r) => tf.sum(tf.square(bnAddReluEval(a, g, b, rm, rv, r))))([x, res]),
      ),
    );
    tf.dispose([x, res, g, b, rm, rv]);
  });

  it('batch norm + residual + ReLU (value and the gradients of x, γ, β, residual) matches cpu', async () => {
    await compare('bn+add+relu 4-D', bnAddReluTrain, [
      { shape: [3, 4, 4, 5] },
      { shape: [5] },
      { shape: [5] },
      { shape: [3, 4, 4, 5] },
    ]);
    await compare('bn+add+relu 2-D', bnAddReluTrain, [
      { shape: [10, 7] },
      { shape: [7] },
      { shape: [7] },
      { shape: [10, 7] },
    ]);
    const x = tf.randomNormal([2, 3, 3, 4]);
    const res = tf.randomNormal([2, 3, 3, 4]);
    const step = () =>
      tf.dispose(
        tf.grads((a, r) => tf.sum(tf.square(bnAddReluTrain(a, tf.ones([4]), tf.zeros([4]), r))))([
          x,
          res,
        ]),
      );
    step();
    for (let i = 0; i < 3; i++) await expectNoLeak(step);
    tf.dispose([x, res]);
  });

  it('fused batch norm + ReLU gradients leave no tensor behind', async () => {
    const x = tf.randomNormal([2, 4, 4, 5]);
    const g = tf.ones([5]);
    const b = tf.zeros([5]);
    const step = () =>
      tf.dispose(tf.grads((a, c, d) => tf.sum(tf.square(bnReluTrain(a, c, d))))([x, g, b]));
    step();
    for (let i = 0; i < 3; i++) await expectNoLeak(step);
    tf.dispose([x, g, b]);
  });

  it('batch norm statistics: two passes keep the variance exact under a large mean', async () => {
    // x = 1000 + small noise: a one-pass E[x²] − E[x]² in float32 would lose every digit.
    const values = makeValues({ shape: [6, 4, 4, 3] }).map((v) => 1000 + 0.01 * v);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const s = new ParamStore(`bn-${backend}`);
      initBatchNorm(s.scope(''), 'bn', 3);
      const upd = new BatchNormUpdates();
      const x = tf.tensor4d(values, [6, 4, 4, 3]);
      const y = batchNorm(s.scope(''), 'bn', x, { training: true, bnUpdates: upd });
      upd.apply();
      const out = {
        y: y.dataSync().slice(),
        mean: s.get('bn.running_mean').dataSync().slice(),
        variance: s.get('bn.running_var').dataSync().slice(),
      };
      tf.dispose([x, y]);
      s.dispose();
      return out;
    };
    const wasm = await run('wasm');
    const cpu = await run('cpu');
    await tf.setBackend('wasm');
    // Float64 reference of the batch statistics and of y = (x − μ)/√(σ² + ε), γ = 1, β = 0.
    const mu = [0, 1, 2].map((ch) => {
      const v = Array.from(values.filter((_, i) => i % 3 === ch));
      return v.reduce((a, b) => a + b, 0) / v.length;
    });
    const biased = [0, 1, 2].map((ch) => {
      const v = Array.from(values.filter((_, i) => i % 3 === ch));
      return v.reduce((a, b) => a + (b - mu[ch]) ** 2, 0) / v.length;
    });
    const n = values.length / 3;
    const yRef = Array.from(values, (v, i) => (v - mu[i % 3]) / Math.sqrt(biased[i % 3] + BN_EPS));
    // running = 0.9·init + 0.1·batch statistic (mean init 0, var init 1, unbiased var).
    const meanRef = mu.map((m) => 0.1 * m);
    const varRef = biased.map((b) => 0.9 + (0.1 * b * n) / (n - 1));
    for (const [name, r] of [
      ['wasm', wasm],
      ['cpu', cpu],
    ] as const) {
      expectClose(r.mean, meanRef, { rtol: 1e-6, label: `${name} running mean` });
      expectClose(r.variance, varRef, { atol: 1e-7, rtol: 1e-6, label: `${name} running var` });
      // μ rounds to float32 (spacing 6e-5 at 1000, std 0.01): y within 0.006 natively; the
      // composite's float32 mean (tf.moments) drifts further.
      expectClose(r.y, yRef, { atol: name === 'wasm' ? 6e-3 : 2e-2, label: `${name} y` });
    }
    expect(BN_EPS).toBe(1e-5);
  });

  it('batch norm gradients leave no tensor behind', async () => {
    const x = tf.randomNormal([2, 4, 4, 5]);
    const g = tf.ones([5]);
    const b = tf.zeros([5]);
    const step = () =>
      tf.dispose(tf.grads((a, c, d) => tf.sum(tf.square(bnTrain(a, c, d))))([x, g, b]));
    step();
    for (let i = 0; i < 3; i++) await expectNoLeak(step);
    tf.dispose([x, g, b]);
  });

  it('results are bit-identical run to run, and agree across thread counts', () => {
    // Large enough that oneDNN splits each kernel over threads, its weight gradient over
    // the batch too (partial sums reduced across threads); the 1-channel stem's input
    // gradient runs on im2col + GEMM; the matMuls are a head's.
    const x = tf.randomNormal([32, 14, 14, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w1 = tf.randomNormal([3, 3, 1, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
    const w2 = tf.randomNormal([3, 3, 16, 24], 0, 1, 'float32', 3) as tf.Tensor4D;
    const w3 = tf.randomNormal([1, 1, 24, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
    const m = tf.randomNormal([32, 40], 0, 1, 'float32', 5) as tf.Tensor2D;
    const grads = () =>
      tf.tidy(() => {
        const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) => {
          const h1 = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same');
          const h2 = tf.conv2d(h1, c as tf.Tensor4D, 2, 'same');
          const h3 = bnTrain(
            tf.conv2d(h2, d as tf.Tensor4D, 1, 'valid'),
            tf.ones([32]),
            tf.zeros([32]),
          );
          const pooled = tf.mean(h3, [1, 2]) as tf.Tensor2D;
          return tf.sum(tf.square(tf.matMul(pooled, e as tf.Tensor2D)));
        };
        return tf
          .grads(f)([x, w1, w2, w3, m])
          .map((g) => g.dataSync().slice());
      });
    const threads = activeNativeKernels()!.threads;
    const first = grads();
    for (let i = 0; i < 2; i++) {
      const again = grads();
      again.forEach((g, k) =>
        expect(Buffer.from(g.buffer).equals(Buffer.from(first[k].buffer)), `gradient ${k}`).toBe(
          true,
        ),
      );
    }
    setNativeThreads(1);
    const single = grads();
    expect(Buffer.from(grads()[2].buffer).equals(Buffer.from(single[2].buffer))).toBe(true);
    setNativeThreads(threads);
    single.forEach((g, k) =>
      expectClose(g, first[k], {
        atol: 1e-3 * scaleOf(first[k]),
        rtol: 1e-4,
        label: `gradient ${k}, 1 vs ${threads} threads`,
      }),
    );
    tf.dispose([x, w1, w2, w3, m]);
  });

  it('refuses offsets outside the wasm heap with a clear error', () => {
    const heap = new Uint8Array(1024);
    const geometry = [1, 4, 4, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4];
    expect(() => native.addon!.conv2d(heap, 0, 0, 1 << 20, ...geometry)).toThrow(
      /carp-native: tensor at argument 3 .* lies outside the heap/,
    );
    expect(() => native.addon!.conv2d(heap, 0, 0, 0, ...geometry.slice(0, 3))).toThrow(
      /expected 19 arguments/,
    );
    expect(() => native.addon!.setThreads(0)).toThrow(/setThreads/);
  });

  it('switch off and on: pure wasm kernels, then native again', () => {
    useNativeKernels(false);
    expect(activeNativeKernels()).toBeUndefined();
    expect(tf.getKernel(BN_FORWARD, 'wasm')).toBeUndefined();
    useNativeKernels(true);
    expect(activeNativeKernels()).toBeDefined();
    expect(tf.getKernel(BN_FORWARD, 'wasm')).toBeDefined();
  });
});
