/**
 * The memory flatness check at its smallest: 6 micro-steps, snapshots at 2, 4 and 6; the
 * training loop must leave the live tensor count where it was.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { benchMemory } from '../../src/bench/memoryBench';
import { initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('benchMemory', () => {
  it('reports Δ tensors (0: flat) and Δ RSS between the snapshots', async () => {
    const [tensors, rss] = await benchMemory({ steps: 6, early: 2 });
    expect(tensors.scenario).toBe('memory-fmnist-tiny-tensors-2-vs-6');
    expect(tensors.unit).toBe('Δ live tensors (step 6 − 2)');
    expect(tensors.ours).toBe(0);
    expect(tensors.notes[2]).toBe('flat: yes');
    expect(rss.scenario).toBe('memory-fmnist-tiny-rss-2-vs-6');
    expect(rss.unit).toBe('Δ RSS MiB (step 6 − 2)');
    expect(tensors.notes[0]).toMatch(
      /^fmnist-tiny network, batch 32, accumulation 2, 2×28 \+ 2×14 crops, augmentation every step; 6 micro-steps in /,
    );
  });

  it('refuses snapshots off the accumulation boundaries or without a midpoint', async () => {
    const need = 'benchMemory: need 1 ≤ early and early + 4 ≤ steps, both multiples of 2';
    await expect(benchMemory({ steps: 6, early: 1 })).rejects.toThrow(need);
    // No midpoint between 2 and 4 on a boundary: refused, not a crash on a missing snapshot.
    await expect(benchMemory({ steps: 4, early: 2 })).rejects.toThrow(need);
  });
});
