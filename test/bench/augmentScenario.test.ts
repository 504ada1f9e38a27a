/**
 * The augment scenario at smoke sizes without its torchvision peer: one row per crop
 * preset, with the peer's absence said in the row.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runAugment } from '../../src/bench/augmentScenario';
import { initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('runAugment', () => {
  it('rows for the cifar10-r18 and fmnist-small crops, peer absent', async () => {
    const rows = await runAugment({ smoke: true, noPeer: true });
    expect(rows.map((r) => r.scenario)).toEqual(['augment-cifar10-r18', 'augment-fmnist-small']);
    for (const r of rows) {
      expect(r).toMatchObject({ peer: null, peerName: 'torchvision (absent)', speedRatio: null });
      expect(r.notes.at(-1)).toBe('peer skipped (noPeer)');
      expect(r.notes.at(-2)).toBe('best of 1 alternating batches per side');
    }
    expect(rows[0].notes[0]).toBe(
      '32×32×3 source images, batches of 4, 2×32 + 4×16 views, images/s = source images',
    );
    expect(rows[1].notes[0]).toBe(
      '28×28×1 source images, batches of 4, 2×28 + 4×14 views, images/s = source images',
    );
  });
});
