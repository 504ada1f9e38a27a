/**
 * The bench targets on hand-made rows: train step ≥ 0.4× PyTorch at 2 threads (not
 * decidable when the 2-thread peer was slower than its 1-thread run), faiss ≤ 1.5× its
 * time, memory flat; rows without a target get no verdict.
 */
import { describe, expect, it } from 'vitest';
import { checkTargets } from '../../src/bench/targets';
import type { BenchRow } from '../../src/bench/types';

const row = (scenario: string, o: Partial<BenchRow> = {}): BenchRow => ({
  scenario,
  unit: 'images/s',
  higherIsBetter: true,
  ours: 1,
  peer: 1,
  peerName: 'peer',
  speedRatio: 1,
  backend: 'wasm',
  notes: [],
  ...o,
});

describe('checkTargets', () => {
  it('gives each row with a target one verdict', () => {
    const rows = [
      row('train-step-a-t1', { peer: 100, speedRatio: 0.3 }),
      row('train-step-a-t2', { peer: 150, speedRatio: 0.4 }),
      row('train-step-b-t2', { peer: null, speedRatio: null }),
      row('knn-x', { unit: 'seconds', speedRatio: 0.7 }),
      row('kmeans-x', { unit: 'seconds', speedRatio: 0.6 }),
      row('memory-x', { notes: ['flat: yes (+0 tensors)'] }),
      row('memory-y', { notes: ['flat: no'] }),
      row('augment-x'),
    ];
    expect(checkTargets(rows)).toEqual([
      { scenario: 'train-step-a-t2', target: 'speed ratio ≥ 0.4 (PyTorch, 2 threads)', met: true },
      { scenario: 'train-step-b-t2', target: 'speed ratio ≥ 0.4 (PyTorch, 2 threads)', met: null },
      { scenario: 'knn-x', target: 'time ≤ 1.5× Python faiss', met: true }, // 0.7 ≥ 1/1.5
      { scenario: 'kmeans-x', target: 'time ≤ 1.5× Python faiss', met: false }, // 0.6 < 0.667
      { scenario: 'memory-x', target: 'flat', met: true },
      { scenario: 'memory-y', target: 'flat', met: false },
    ]);
  });

  it('does not decide a 2-thread step whose peer was slower than at 1 thread', () => {
    const rows = [
      row('train-step-a-t1', { peer: 100, speedRatio: 0.5 }),
      row('train-step-a-t2', { peer: 90, speedRatio: 0.9 }),
    ];
    expect(checkTargets(rows)).toEqual([
      {
        scenario: 'train-step-a-t2',
        target: 'speed ratio ≥ 0.4 (PyTorch, 2 threads)',
        met: null,
        note: 'busy cores: the 2-thread peer (90.00) was slower than its 1-thread run (100); ratio vs 1 thread 0.500',
      },
    ]);
  });
});
