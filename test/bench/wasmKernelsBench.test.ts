/**
 * The wasm kernel benchmarks at tiny sizes without the built-in peers: the rows it
 * reports, and the backend it found is restored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { runWasmKernelsBench } from '../../src/bench/wasmKernelsBench';
import { initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend('cpu');
});

describe('runWasmKernelsBench', () => {
  it('reports its rows on wasm and restores the backend', async () => {
    const rows = await runWasmKernelsBench({
      batch: 2,
      size: 8,
      width: 2,
      repeats: 1,
      noPeer: true,
    });
    expect(tf.getBackend()).toBe('cpu');
    expect(rows.map((r) => r.scenario)).toEqual([
      'resnet18-cifar fwd+bwd b2 8×8 w2',
      "resnet18-cifar fwd+bwd, batch norm's share b2 8×8 w2",
      'conv2d forward 3×3 2→2 8×8 b2',
      'Conv2DBackpropInput 3×3 2→2 8×8 b2',
      'Conv2DBackpropInput 3×3/2 2→2 8×8 b2',
      'Conv2DBackpropFilter 3×3 2→2 8×8 b2',
      'MaxPoolGrad 3×3/2 same 8×8×2 b2',
      'matMul 64×2048·(512×2048)ᵀ', // the dense layer's shape, whatever the network size
    ]);
    for (const r of rows) {
      expect(r.unit, r.scenario).toBe('seconds');
      expect(r.peer, r.scenario).toBeNull(); // built-in peers skipped
      expect(r.ours, r.scenario).toBeGreaterThan(0);
    }
  });
});
