import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { memorySource } from '../../src/data/source';
import {
  assignPrototypes,
  prototypeClusterEvaluation,
  prototypeUsage,
} from '../../src/eval/protocols/prototypes';
import { createCarpParams, multiCropForward } from '../../src/models/multiCrop';
import { createRng } from '../../src/random';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';
import { tinyCarpSpec } from '../helpers/fixtures';

describe('prototypes as clusters (spec §9.4)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('computes usage counts, unused prototypes and entropy by hand', () => {
    const u = prototypeUsage([0, 0, 2, 2], 4);
    expect(Array.from(u.counts)).toEqual([2, 0, 2, 0]);
    expect(u.used).toBe(2);
    expect(u.unused).toBe(2);
    expect(u.entropy).toBeCloseTo(Math.log(2), 12);
    expect(u.normalizedEntropy).toBeCloseTo(0.5, 12);
    expect(() => prototypeUsage([4], 4)).toThrow(/assignment 4 at 0 outside \[0, 4\)/);
  });

  it('assigns the arg-max over all prototypes of the eval-mode teacher', async () => {
    const spec = tinyCarpSpec(5);
    const params = createCarpParams(spec, createRng(0), 'proto-test');
    const rng = createRng(2);
    const count = 9;
    const images = new Uint8Array(count * 64).map(() => rng.int(256));
    const data = {
      name: 'toy',
      split: 'val',
      count,
      height: 8,
      width: 8,
      channels: 1,
      images,
      labels: Int32Array.from({ length: count }, (_, i) => i % 3),
      classes: ['a', 'b', 'c'],
    };
    const transform = (x: Tensor4D) => tf.div(x, 255) as Tensor4D;
    const ids = await expectNoLeak(() =>
      assignPrototypes({ params, spec, source: memorySource(data), transform, batchSize: 4 }),
    );
    const logits = tf.tidy(() =>
      multiCropForward(
        params,
        spec,
        [transform(tf.tensor4d(images, [count, 8, 8, 1], 'float32'))],
        {
          training: false,
        },
      ),
    );
    const l = await logits.data();
    logits.dispose();
    for (let i = 0; i < count; i++) {
      const row = Array.from(l.subarray(i * 5, i * 5 + 5));
      expect(ids[i]).toBe(row.indexOf(Math.max(...row)));
    }
    const res = await prototypeClusterEvaluation({
      params,
      spec,
      source: memorySource(data),
      transform,
    });
    expect(Array.from(res.assignments)).toEqual(Array.from(ids));
    expect(res.usage.counts.reduce((a, b) => a + b, 0)).toBe(count);
    expect(res.metrics.nmi).toBeGreaterThanOrEqual(0);
    params.dispose();
  });
});
