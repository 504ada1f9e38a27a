/**
 * `Identity` on wasm (src/backend/kernels/identity.ts): the output shares the input's
 * buffer with one more reference, instead of a copy; strings keep the built-in's copy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { identityConfig } from '../../../src/backend/kernels/identity';
import { initTestBackend } from '../../helpers/tensors';

beforeAll(async () => {
  expect(await initTestBackend('wasm')).toBe('wasm');
});

describe('Identity', () => {
  it('shares the buffer instead of copying it; each reference is released on its own', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const before = tf.memory();
    const y = tf.clone(x);
    const backend = tf.backend() as unknown as { getMemoryOffset(id: object): number };
    expect(backend.getMemoryOffset(y.dataId)).toBe(backend.getMemoryOffset(x.dataId));
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers); // no new buffer
    expect(tf.memory().numTensors).toBe(before.numTensors + 1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors - 1);
    // Strings keep the built-in path.
    const s = tf.tensor1d(['a', 'b'], 'string');
    const t = tf.clone(s);
    expect(await t.data()).toEqual(['a', 'b']);
    tf.dispose([s, t]);
  });
});

describe('identityConfig', () => {
  it('adds a reference to the same data; a string input goes to the built-in', () => {
    const backend = tf.backend();
    let builtinCalls = 0;
    const builtin: tf.KernelConfig = {
      kernelName: tf.Identity,
      backendName: 'wasm',
      kernelFunc: (args) => {
        builtinCalls++;
        return tf.getKernel(tf.Identity, 'wasm')!.kernelFunc(args);
      },
    };
    const config = identityConfig('wasm', builtin);
    expect([config.kernelName, config.backendName]).toEqual([tf.Identity, 'wasm']);
    const x = tf.tensor1d([4, 5]);
    const out = config.kernelFunc({ inputs: { x }, backend, attrs: {} }) as tf.TensorInfo;
    expect(out).toEqual({ dataId: x.dataId, shape: [2], dtype: 'float32' });
    expect(backend.refCount(x.dataId)).toBe(2);
    expect(backend.disposeData(x.dataId)).toBe(false); // one reference released, data kept
    expect(backend.refCount(x.dataId)).toBe(1);
    expect(builtinCalls).toBe(0);
    const s = tf.tensor1d(['a'], 'string');
    const copy = config.kernelFunc({ inputs: { x: s }, backend, attrs: {} }) as tf.TensorInfo;
    expect(builtinCalls).toBe(1);
    expect(copy.dataId).not.toBe(s.dataId);
    backend.disposeData(copy.dataId);
    tf.dispose([x, s]);
  });
});
