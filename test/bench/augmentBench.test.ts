/**
 * The multi-crop throughput row at a tiny batch: its id names image and crop sizes, its
 * notes the views and settings, and no tensor is left behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentBench } from '../../src/bench/augmentBench';
import { multiCropPreset } from '../../src/data/multiCropConfig';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('augmentBench', () => {
  it('measures images/s of multiCropViews, leak-free', async () => {
    const config = { ...multiCropPreset('fmnist'), numLocal: 3, globalSize: 24, localSize: 12 };
    const r = await expectNoLeak(() => augmentBench({ config, batch: 2, iters: 1 }));
    expect(r).toMatchObject({
      scenario: 'multicrop-28x28x1-b2-24x2+12x3',
      unit: 'images/s',
      higherIsBetter: true,
      peer: null,
      speedRatio: null,
      backend: 'wasm',
    });
    expect(r.ours).toBeGreaterThan(0);
    expect(r.notes[0]).toBe(`5 views per image, filter ${config.filter}, 1 timed batches of 2`);
  });

  it('takes the scenario name it is given', async () => {
    const r = await augmentBench({ batch: 1, iters: 1, scenario: 'mine' });
    expect(r.scenario).toBe('mine');
  });
});
