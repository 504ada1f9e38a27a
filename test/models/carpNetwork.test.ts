import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D, Tensor4D } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import { carpHeadForward } from '../../src/models/carpHead';
import { BatchNormUpdates } from '../../src/models/layers';
import {
  backboneFeatures,
  carpNetworkSpec,
  createCarpParams,
  groupViewsByResolution,
  multiCropForward,
  splitViews,
} from '../../src/models/carpNetwork';
import { resnetForward, resnetSpec } from '../../src/models/resnet';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const spec = carpNetworkSpec(resnetSpec('resnet18', { width: 4, cifarStem: true, inChannels: 1 }), {
  hiddenDim: 16,
  bottleneckDim: 8,
  numPrototypes: 24,
  batchNorm: true,
  numLayers: 3,
});

function views(b: number, sizes: number[], seed = 1): Tensor4D[] {
  return sizes.map((s, i) => tf.randomNormal([b, s, s, 1], 0, 1, 'float32', seed + i) as Tensor4D);
}

describe('multi-crop wrapper', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('groups consecutive views by last spatial size', () => {
    const v = views(1, [8, 8, 4, 4, 4, 8]);
    expect(groupViewsByResolution(v)).toEqual([[0, 1], [2, 3, 4], [5]]);
    tf.dispose(v);
  });

  it('store names carry the wrapper prefixes backbone./head.', () => {
    const s = createCarpParams(spec, createRng(0));
    expect(s.names()[0]).toBe('backbone.conv1.weight');
    expect(s.names().at(-1)).toBe('head.last_layer.weight_v');
    expect(spec.head.inDim).toBe(32);
    s.dispose();
  });

  it('training mode equals backbone-per-group + head-once, with BN updates in order', async () => {
    const s = createCarpParams(spec, createRng(0));
    const v = views(3, [8, 8, 6, 6, 6]);
    await expectNoLeak(() => {
      const upd = new BatchNormUpdates();
      const out = multiCropForward(s, spec, v, { training: true, bnUpdates: upd });
      expect(out.shape).toEqual([15, 24]);
      // 20 backbone BN layers × 2 groups + 2 head BN layers.
      expect(upd.size).toBe(20 * 2 + 2);
      const manual = tf.tidy(() => {
        const bb = s.scope('backbone.');
        const f1 = resnetForward(bb, spec.backbone, tf.concat(v.slice(0, 2), 0) as Tensor4D, {
          training: true,
        });
        const f2 = resnetForward(bb, spec.backbone, tf.concat(v.slice(2), 0) as Tensor4D, {
          training: true,
        });
        return carpHeadForward(s.scope('head.'), spec.head, tf.concat([f1, f2], 0) as Tensor2D, {
          training: true,
        });
      });
      expectClose(out.dataSync(), manual.dataSync(), { atol: 1e-5 });
      const parts = splitViews(out, 5);
      expect(parts.map((t) => t.shape)).toEqual(new Array(5).fill([3, 24]));
      expectClose(parts[3].dataSync(), out.dataSync().subarray(9 * 24, 12 * 24));
      upd.apply();
      expect(s.get('backbone.bn1.num_batches_tracked').dataSync()[0]).toBe(2);
      expect(s.get('head.mlp.1.num_batches_tracked').dataSync()[0]).toBe(1);
      tf.dispose([out, manual, ...parts]);
    });
    tf.dispose(v);
    s.dispose();
  });

  it('eval mode equals separate per-view runs (no batch coupling)', async () => {
    const s = createCarpParams(spec, createRng(2));
    const v = views(2, [8, 8, 6]);
    await expectNoLeak(() => {
      const out = multiCropForward(s, spec, v, { training: false });
      const sep = v.map((x) =>
        tf.tidy(() =>
          carpHeadForward(s.scope('head.'), spec.head, backboneFeatures(s, spec, x), {
            training: false,
          }),
        ),
      );
      expectClose(out.dataSync(), Float32Array.from(sep.flatMap((t) => Array.from(t.dataSync()))), {
        atol: 1e-5,
      });
      tf.dispose([out, ...sep]);
    });
    expect(() =>
      multiCropForward(s, spec, [v[0], tf.zeros([3, 8, 8, 1]) as Tensor4D], { training: false }),
    ).toThrow(/same batch size/);
    tf.dispose(v);
    s.dispose();
  });

  it('splitViews rejects a row count that does not divide', () => {
    const x = tf.zeros([5, 2]) as Tensor2D;
    expect(() => splitViews(x, 2)).toThrow(/do not split/);
    x.dispose();
  });
});
