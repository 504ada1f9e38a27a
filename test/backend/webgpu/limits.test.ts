/**
 * The webgpu storage-buffer limit and the chunked AddN (src/backend/webgpu/limits.ts). Runs
 * without a GPU: the adapter is a plain object with the two members the module reads, and
 * the AddN under the chunking is a recording stand-in registered as webgpu's kernel, so the
 * chunking itself is what is checked (the real device path: test/backend/webgpu.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import {
  addNIsExact,
  DEFAULT_STORAGE_BUFFERS,
  installChunkedAddN,
  storageBufferLimit,
  withRaisedLimits,
} from '../../../src/backend/webgpu/limits';
import { initTestBackend } from '../../helpers/tensors';

describe('storage-buffer limit', () => {
  it("the adapter's own limit, WebGPU's default of 8 when it reports none", () => {
    const requestDevice = () => Promise.resolve('device');
    expect(
      storageBufferLimit({ limits: { maxStorageBuffersPerShaderStage: 16 }, requestDevice }),
    ).toBe(16);
    expect(storageBufferLimit({ requestDevice })).toBe(8);
    expect(DEFAULT_STORAGE_BUFFERS).toBe(8);
  });

  it('withRaisedLimits asks for the full limit, keeps other limits, binds methods to the adapter', async () => {
    const seen: unknown[] = [];
    const adapter = {
      limits: { maxStorageBuffersPerShaderStage: 16 },
      name: 'gpu0',
      requestDevice(descriptor?: unknown) {
        seen.push(descriptor);
        return Promise.resolve('device');
      },
      self() {
        return this;
      },
    };
    const raised = withRaisedLimits(adapter);
    expect(await raised.requestDevice({ label: 'x', requiredLimits: { maxBindGroups: 4 } })).toBe(
      'device',
    );
    expect(await raised.requestDevice()).toBe('device');
    expect(seen).toEqual([
      { label: 'x', requiredLimits: { maxBindGroups: 4, maxStorageBuffersPerShaderStage: 16 } },
      { requiredLimits: { maxStorageBuffersPerShaderStage: 16 } },
    ]);
    expect(raised.name).toBe('gpu0');
    expect(raised.self()).toBe(adapter);
  });
});

describe('installChunkedAddN', () => {
  it('refuses when webgpu has no AddN kernel', () => {
    expect(tf.getKernel(tf.AddN, 'webgpu')).toBeUndefined();
    expect(() => installChunkedAddN(7)).toThrow('installChunkedAddN: webgpu has no AddN kernel');
  });

  it('20 inputs, 7 per shader: sums of 7, 7, 6, then of the 3 partial sums, which are released', () => {
    const calls: number[][] = [];
    const disposed: number[] = [];
    let next = 100;
    tf.registerKernel({
      kernelName: tf.AddN,
      backendName: 'webgpu',
      kernelFunc: ({ inputs }) => {
        const ids = (inputs as unknown as tf.TensorInfo[]).map(
          (t) => t.dataId as unknown as number,
        );
        calls.push(ids);
        return { dataId: next++ as unknown as object, shape: [1], dtype: 'float32' };
      },
    });
    try {
      installChunkedAddN(7);
      installChunkedAddN(3); // idempotent: the first chunk size stays
      const inputs = Array.from({ length: 20 }, (_, i) => ({
        dataId: i as unknown as object,
        shape: [1],
        dtype: 'float32' as const,
      }));
      const backend = {
        disposeData: (id: object) => {
          disposed.push(id as unknown as number);
          return true;
        },
      };
      const kernel = tf.getKernel(tf.AddN, 'webgpu')!;
      const out = kernel.kernelFunc({
        inputs: inputs as unknown as tf.NamedTensorInfoMap,
        backend: backend as unknown as tf.KernelBackend,
        attrs: {},
      }) as tf.TensorInfo;
      expect(calls).toEqual([
        [0, 1, 2, 3, 4, 5, 6],
        [7, 8, 9, 10, 11, 12, 13],
        [14, 15, 16, 17, 18, 19],
        [100, 101, 102],
      ]);
      expect(out.dataId).toBe(103);
      expect(disposed).toEqual([100, 101, 102]);
    } finally {
      tf.unregisterKernel(tf.AddN, 'webgpu');
    }
  });
});

describe('addNIsExact', () => {
  it('is true on a backend whose AddN is right (wasm: 1 + … + 20 = 210 everywhere)', async () => {
    expect(await initTestBackend('wasm')).toBe('wasm');
    const before = tf.memory().numTensors;
    expect(await addNIsExact()).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
