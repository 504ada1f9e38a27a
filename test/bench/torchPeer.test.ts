/**
 * An images/s row against the PyTorch peer: the ratio ours/peer, and the row without a
 * peer. (Starting the peer process itself is exercised by the train-step bench in
 * main.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ourBackend } from '../../src/bench/ourThreads';
import { DEFAULT_PYTHON, torchRow } from '../../src/bench/torchPeer';
import { initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend('cpu');
});

describe('torchRow', () => {
  it('is an images/s row, ratio ours/peer', () => {
    expect(
      torchRow({ scenario: 's-t1', ours: 30, peer: 20, torch: null, threads: 1, notes: ['n'] }),
    ).toEqual({
      scenario: 's-t1',
      unit: 'images/s',
      higherIsBetter: true,
      ours: 30,
      peer: 20,
      peerName: 'PyTorch (absent)',
      speedRatio: 1.5,
      backend: 'cpu',
      notes: ['n'],
    });
    expect(ourBackend()).toBe('cpu');
  });

  it('has no ratio without a peer figure', () => {
    const r = torchRow({ scenario: 's', ours: 30, peer: null, torch: null, threads: 2, notes: [] });
    expect(r.speedRatio).toBeNull();
    expect(DEFAULT_PYTHON).toBe('/usr/bin/python3');
  });
});
