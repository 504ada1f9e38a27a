/**
 * The feature-extraction row at tiny sizes, ours only: one row per thread count, named
 * after the train-step case, leak-free.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { benchFeatures } from '../../src/bench/featureBench';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';
import { TINY_CASE } from './tinyCase';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('benchFeatures', () => {
  it('one images/s row per thread count, ours only', async () => {
    const rows = await expectNoLeak(() =>
      benchFeatures(
        { ...TINY_CASE, id: 'train-step-tiny' },
        { batch: 2, warmup: 0, rounds: 1, threads: [1, 2], noPeer: true },
      ),
    );
    expect(rows.map((r) => r.scenario)).toEqual(['features-tiny-t1', 'features-tiny-t2']);
    for (const r of rows) {
      expect(r).toMatchObject({ unit: 'images/s', peer: null, peerName: 'PyTorch (absent)' });
      expect(r.ours).toBeGreaterThan(0);
      expect(r.notes[0]).toBe(
        'teacher backbone, eval mode: ResNet-18 width 4, batches of 2 × 28×28×1',
      );
      expect(r.notes).toContain('peer skipped (noPeer)');
    }
  });
});
