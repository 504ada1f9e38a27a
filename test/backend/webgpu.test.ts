/**
 * WebGPU backend (src/backend/webgpu.ts).
 *
 * Always: adapter classification and the CPU-only refusal (no GPU needed).
 * Gated by CARP_TEST_WEBGPU=1: on the software adapter (Mesa llvmpipe through Dawn's
 * OpenGL ES backend; Debian packages mesa-vulkan-drivers libegl-mesa0 libgles2
 * libvulkan1), matMul, conv2d and a small training step (forward, loss, gradients) are
 * compared against the `cpu` backend, and against `wasm` where its gradient kernels are
 * registered. llvmpipe takes ~10–20 s for the whole file on 2 cores, hence the gate.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import { readCheckpoint } from '../../src/interop/carpCheckpoint';
import { LATEST_CHECKPOINT, pretrain } from '../../src/train/trainer';
import { tf } from '../../src/backend/tf';
// tfjs-core's CommonJS bundle registers no gradients (as in test/carp/backends.ts); the
// registry is global, so this ESM copy serves every backend.
import {
  adapterDisplayName,
  isSoftwareAdapter,
  shutdownWebgpu,
  tryWebgpu,
} from '../../src/backend/webgpu';
import { summariseAdapter } from '../../src/backend/webgpu/adapter';
import { dawnFlags, gpuDeviceNodes, OPENGLES_ROUTE } from '../../src/backend/webgpu/dawn';
import { splitKMatMulIsExact } from '../../src/backend/webgpu/selfTest';
import { registerWasmKernels } from '../../src/backend/wasmKernels';
import { expectClose, expectNoLeak } from '../helpers/tensors';

const LLVMPIPE = {
  vendor: '',
  architecture: '',
  device: 'llvmpipe-llvm-15-0-6-256-bits-',
  description: 'OpenGL version OpenGL ES 3.2 Mesa 22.3.6',
  isFallbackAdapter: false,
};
const H100 = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: 'NVIDIA H100 80GB HBM3',
  description: 'NVIDIA: 580.159.04',
};

describe('adapter classification', () => {
  it('recognises software renderers by flag or by name', () => {
    expect(isSoftwareAdapter(LLVMPIPE)).toBe(true);
    expect(isSoftwareAdapter({ device: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'x', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter(H100)).toBe(false);
  });
  it('names and summarises an adapter', () => {
    expect(adapterDisplayName(H100)).toBe('NVIDIA H100 80GB HBM3 (NVIDIA: 580.159.04)');
    expect(adapterDisplayName({})).toBe('unnamed adapter');
    const s = summariseAdapter(LLVMPIPE, 'opengles', 'compatibility');
    expect(s).toMatchObject({ type: 'software', software: true, dawnBackend: 'opengles' });
    expect(summariseAdapter(H100, 'vulkan', 'core').type).toBe('hardware');
  });
  it('builds Dawn flags, with extra ones from CARP_DAWN_FLAGS', () => {
    expect(dawnFlags(OPENGLES_ROUTE, {})).toEqual(['backend=opengles']);
    expect(dawnFlags(OPENGLES_ROUTE, { CARP_DAWN_FLAGS: 'a=1, b' })).toEqual([
      'backend=opengles',
      'a=1',
      'b',
    ]);
  });
  it.skipIf(gpuDeviceNodes()?.length !== 0)(
    'refuses quickly, without loading Dawn, where Linux shows no GPU',
    async () => {
      await expect(tryWebgpu({ allowSoftware: false, log: () => {} })).rejects.toThrow(
        /no GPU device node/,
      );
    },
  );
});

const ENABLED = process.env.CARP_TEST_WEBGPU === '1';

/** Seeded uniform values in [-1, 1) (LCG), so both backends see identical inputs. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Runs `fn` on `backend` and reads every output asynchronously (webgpu has no dataSync in Node). */
async function runOn(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const data = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return data;
}

/** matMul forward and both gradients, `[m, k] × [k, n]`. */
function matMulCase(m = 33, k = 47, n = 29): tf.Tensor[] {
  const a = tf.tensor2d(values(m * k, 1), [m, k]);
  const b = tf.tensor2d(values(k * n, 2), [k, n]);
  const r = tf.tensor2d(values(m * n, 3), [m, n]);
  const f = (x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), r));
  const [da, db] = tf.grads(f)([a, b]);
  return [tf.matMul(a, b), da, db];
}

/** conv2d forward, input and filter gradients, for one stride/padding. */
function convCase(stride: number, pad: 'same' | 'valid'): tf.Tensor[] {
  const x = tf.tensor4d(values(2 * 9 * 9 * 3, 4), [2, 9, 9, 3]);
  const w = tf.tensor4d(values(3 * 3 * 3 * 4, 5), [3, 3, 3, 4]);
  const y = tf.conv2d(x, w, stride, pad);
  const r = tf.tensor(values(y.size, 6), y.shape);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad), r));
  const [dx, dw] = tf.grads(f)([x, w]);
  return [y, dx, dw];
}

/**
 * One training-style step of a tiny conv net: conv3×3 → batch-norm (batch statistics)
 * → ReLU → conv3×3/2 → ReLU → global average pool → dense → softmax cross-entropy.
 * Returns [loss, …gradients].
 */
function trainStepCase(): tf.Tensor[] {
  const x = tf.tensor4d(values(4 * 8 * 8 * 3, 7), [4, 8, 8, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 3, 1, 2], 'int32'), 5);
  const params = [
    tf.mul(tf.tensor4d(values(3 * 3 * 3 * 8, 8), [3, 3, 3, 8]), 0.3),
    tf.ones([8]),
    tf.zeros([8]),
    tf.mul(tf.tensor4d(values(3 * 3 * 8 * 16, 9), [3, 3, 8, 16]), 0.2),
    tf.mul(tf.tensor2d(values(16 * 5, 10), [16, 5]), 0.5),
    tf.tensor1d(values(5, 11)),
  ];
  const loss = (...p: tf.Tensor[]) => {
    const [w1, gamma, beta, w2, wd, bd] = p;
    let h: tf.Tensor = tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.relu(
      tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta),
    );
    h = tf.relu(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same'));
    const logits = tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, wd as tf.Tensor2D), bd);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(loss)(params);
  return [value, ...grads];
}

const CASES: [string, () => tf.Tensor[]][] = [
  ['matMul + grads', () => matMulCase()],
  // Small output, long inner dimension: tfjs picks its split-K program (webgpu/selfTest.ts).
  ['matMul [4, 2048] × [2048, 256] + grads', () => matMulCase(4, 2048, 256)],
  ['conv2d stride 1 same + grads', () => convCase(1, 'same')],
  ['conv2d stride 2 valid + grads', () => convCase(2, 'valid')],
  ['train step (loss + grads)', trainStepCase],
];

describe.skipIf(!ENABLED)(
  'webgpu on the software adapter vs cpu/wasm (gated: set CARP_TEST_WEBGPU=1)',
  () => {
    let wasmReady = false;
    beforeAll(async () => {
      await import('@tensorflow/tfjs-backend-cpu');
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      wasmReady =
        tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined && (await tf.setBackend('wasm'));
      await tryWebgpu({ allowSoftware: true, log: () => {} });
    });
    afterAll(async () => {
      await shutdownWebgpu();
    });

    for (const [name, fn] of CASES) {
      it(`${name}: matches cpu`, async () => {
        const want = await runOn('cpu', fn);
        const got = await runOn('webgpu', fn);
        got.forEach((g, i) =>
          expectClose(g, want[i], { atol: 1e-4, rtol: 1e-3, label: `${name} #${i}` }),
        );
      });
    }

    it('train step: matches wasm (where its gradient kernels are registered)', async (ctx) => {
      if (!wasmReady) ctx.skip();
      const want = await runOn('wasm', trainStepCase);
      const got = await runOn('webgpu', trainStepCase);
      got.forEach((g, i) =>
        expectClose(g, want[i], { atol: 1e-4, rtol: 1e-3, label: `wasm #${i}` }),
      );
    });

    it('start-up self-test: split-K-shaped matMul is exact (workaround applied if needed)', async () => {
      await tf.setBackend('webgpu');
      expect(await splitKMatMulIsExact()).toBe(true);
    });

    it('the CARP trainer: two micro-steps give the same losses and teacher on webgpu and wasm', async (ctx) => {
      if (!wasmReady) ctx.skip();
      const config = resolveConfig('fmnist-tiny', [
        'model.width=4',
        'model.numPrototypes=16',
        'model.partitionSize=8',
        'model.hiddenDim=16',
        'model.bottleneckDim=8',
        'train.batchSize=8',
        'train.epochs=1',
        'data.limit=16',
      ]);
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const outDir = mkdtempSync(join(tmpdir(), `wgpu-train-${backend}-`));
        const losses: number[] = [];
        await pretrain({ config, outDir, progress: false, onStep: (m) => losses.push(m.loss) });
        return { losses, teacher: readCheckpoint(join(outDir, LATEST_CHECKPOINT)).tensors };
      };
      const want = await run('wasm');
      const got = await run('webgpu');
      expect(want.losses).toHaveLength(2);
      expectClose(got.losses, want.losses, { atol: 1e-5, rtol: 1e-4, label: 'losses' });
      let compared = 0;
      for (const [name, t] of want.teacher) {
        if (!name.startsWith('teacher.') || t.dtype !== 'F32') continue;
        compared++;
        expectClose(got.teacher.get(name)!.data as Float32Array, t.data as Float32Array, {
          atol: 1e-4,
          rtol: 1e-3,
          label: name,
        });
      }
      expect(compared).toBeGreaterThan(50); // every float tensor of the teacher
    });

    it('train step leaks no tensor on webgpu', async () => {
      await tf.setBackend('webgpu');
      await expectNoLeak(async () => {
        const outs = tf.tidy(trainStepCase);
        await Promise.all(outs.map((t) => t.data()));
        tf.dispose(outs);
      });
    });
  },
);
