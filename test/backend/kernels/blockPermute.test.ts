/**
 * The random partition's heap permutation on wasm (src/backend/kernels/blockPermute.ts):
 * a hand-worked case, zeros outside the partition even on reused heap memory, and the same
 * values and gradients as the cpu backend's host path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  CARP_BLOCKS,
  CARP_UNBLOCKS,
  hasBlockKernels,
} from '../../../src/backend/kernels/blockPermute';
import { loadNative, setNativeThreads, threadsFromEnv } from '../../../src/backend/native/addon';
import { activeNativeKernels, useNativeKernels } from '../../../src/backend/wasmKernels';
import { blockLogits, samplePartition } from '../../../src/carp/randomPartition';
import { createRng } from '../../../src/random';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

const attrs = (partition: number[], partitionSize: number, numPrototypes: number) =>
  ({
    partition: Int32Array.from(partition),
    partitionSize,
    numPrototypes,
  }) as unknown as tf.NamedAttrMap;

describe('CarpBlocks / CarpUnblocks on wasm', () => {
  it('permutes a hand-worked case and transposes it back with zeros outside the partition', async () => {
    await tf.setBackend('wasm');
    expect(hasBlockKernels()).toBe(true);
    // Dirty the heap so that a missing zero fill would show.
    tf.dispose(tf.fill([64], 7));
    const x = tf.tensor2d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 5]);
    // π = [3, 0 | 4, 1], P = 2: prototype 2 is unused.
    const a = attrs([3, 0, 4, 1], 2, 5);
    await expectNoLeak(async () => {
      const blocks = tf.engine().runKernel(CARP_BLOCKS, { x }, a) as tf.Tensor;
      expect(blocks.shape).toEqual([2, 2, 2]);
      expect(Array.from(await blocks.data())).toEqual([3, 0, 8, 5, 4, 1, 9, 6]);
      const back = tf.engine().runKernel(CARP_UNBLOCKS, { dy: blocks }, a) as tf.Tensor;
      expect(back.shape).toEqual([2, 5]);
      expect(Array.from(await back.data())).toEqual([0, 1, 0, 3, 4, 5, 6, 0, 8, 9]);
      tf.dispose([blocks, back]);
    });
    x.dispose();
  });

  it('blockLogits: values and gradient equal the cpu backend host path (K 67, P 8, leftovers)', async () => {
    const pi = samplePartition(67, 8, createRng(4)); // 8 blocks, 3 prototypes unused
    const run = async (backend: 'cpu' | 'wasm') => {
      await tf.setBackend(backend);
      const x = tf.tensor2d(
        Array.from({ length: 5 * 67 }, (_, i) => Math.sin(i) * 3),
        [5, 67],
      );
      const w = tf.tensor3d(
        Array.from({ length: 8 * 5 * 8 }, (_, i) => (i % 7) - 3),
        [8, 5, 8],
      );
      const before = tf.memory().numTensors;
      const y = blockLogits(x, pi, 8, 'host');
      const g = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(blockLogits(t as tf.Tensor2D, pi, 8, 'host'), w)),
      )(x);
      const out = [Array.from(await y.data()), Array.from(await g.data())];
      tf.dispose([y, g]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, w]);
      return out;
    };
    const cpu = await run('cpu');
    expect(hasBlockKernels()).toBe(false); // the cpu backend keeps the JS host path
    const wasm = await run('wasm');
    expect(wasm).toEqual(cpu);
    // The gradient is w scattered back: zero in the 3 unused columns of every row.
    const unused = [...Array(67).keys()].filter((k) => !pi.includes(k));
    expect(unused).toHaveLength(3);
    for (let n = 0; n < 5; n++) for (const k of unused) expect(wasm[1][n * 67 + k]).toBe(0);
  });

  // Decided at collection (before the backend is set up): whether the addon loads here.
  it.skipIf(loadNative().addon === undefined)(
    'native (C++, 1 and 2 threads) and JS heap loops give the same floats at B 64, K 4096, P 512',
    async () => {
      await tf.setBackend('wasm');
      expect(activeNativeKernels()).toBeDefined();
      const pi = samplePartition(4096, 512, createRng(9));
      const x = tf.randomNormal([64, 4096], 0, 1, 'float32', 5) as tf.Tensor2D;
      const w = tf.randomNormal([8, 64, 512], 0, 1, 'float32', 6);
      const run = async () => {
        const y = blockLogits(x, pi, 512, 'host');
        const g = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(blockLogits(t as tf.Tensor2D, pi, 512, 'host'), w)),
        )(x);
        const out = [await y.data(), await g.data()];
        tf.dispose([y, g]);
        return out;
      };
      try {
        setNativeThreads(1);
        const one = await run();
        setNativeThreads(2);
        const two = await run();
        useNativeKernels(false);
        const js = await run();
        // Bit-identical (bytes compared: a deep equal over 2 × 262 144 floats is slow).
        const bytes = (xs: tf.TypedArray[]) =>
          xs.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
        for (const other of [two, js]) {
          const [a, b] = [bytes(other), bytes(one)];
          expect(a.map((buf, i) => buf.equals(b[i]))).toEqual([true, true]);
        }
        // Spot values by the definition: y[b, n, c] = x[n, π[bP + c]].
        const xs = await x.data();
        expect(one[0][(3 * 64 + 7) * 512 + 11]).toBe(xs[7 * 4096 + pi[3 * 512 + 11]]);
      } finally {
        useNativeKernels(true);
        setNativeThreads(threadsFromEnv());
        tf.dispose([x, w]);
      }
    },
  );
});
