import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { Tensor4D } from '../../../src/backend/tf';
import { memorySource } from '../../../src/data/source';
import { clusteringMetrics } from '../../../src/eval/math/clusteringMetrics';
import {
  assignPrototypes,
  prototypeClusterEvaluation,
  runPrototypes,
} from '../../../src/eval/protocols/prototypes';
import { readEvalResults } from '../../../src/eval/results';
import { resolveConfig } from '../../../src/config/resolve';
import { randomInitTeacher } from '../../../src/train/randomTeacher';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCarpParams, multiCropForward } from '../../../src/models/carpNetwork';
import { createRng } from '../../../src/random';
import { expectNoLeak, initTestBackend } from '../../helpers/tensors';
import { tinyCarpSpec } from '../../helpers/fixtures';

describe('prototypes as clusters (§9.4)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
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
    expect(res.metrics).toEqual(clusteringMetrics(data.labels, ids));
    params.dispose();
  });

  it('runPrototypes on the Fashion-MNIST test split writes a typed result', async () => {
    const config = resolveConfig('fmnist-tiny', [
      'model.width=2',
      'model.numPrototypes=16',
      'model.partitionSize=8',
    ]);
    const teacher = randomInitTeacher(config);
    const runDir = mkdtempSync(join(tmpdir(), 'proto-run-'));
    const r = await runPrototypes({ teacher, runDir, dataset: 'fashion-mnist', limit: 200 });
    expect(r.splits).toEqual({ test: 200 });
    expect(r.metrics.prototypeCounts).toHaveLength(16);
    expect(r.metrics.prototypeCounts.reduce((a, b) => a + b, 0)).toBe(200);
    expect(r.metrics.usage.used + r.metrics.usage.unused).toBe(16);
    expect(r.settings).toMatchObject({ filter: 'bicubic', numPrototypes: 16 });
    expect(r.partial).toBe(true);
    expect(readEvalResults(runDir).map((e) => e.variant)).toEqual([r.variant]);
    teacher.params.dispose();
  });
});
