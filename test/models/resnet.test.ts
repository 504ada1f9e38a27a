import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import { ParamStore, torchShape } from '../../src/models/params';
import {
  initResNet,
  resnetFeatureDim,
  resnetForward,
  resnetSpec,
  type ResNetArch,
} from '../../src/models/resnet';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';
import { loadTorchKeys } from './torchFixtures';

const torchKeys = loadTorchKeys();

function build(arch: ResNetArch, opts: Parameters<typeof resnetSpec>[1] = {}, seed = 0) {
  const spec = resnetSpec(arch, opts);
  const store = new ParamStore('t');
  initResNet(store.scope(''), spec, createRng(seed));
  return { spec, store };
}

function std(a: Float32Array): number {
  let s = 0;
  let s2 = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
  }
  return Math.sqrt(s2 / a.length - (s / a.length) ** 2);
}

describe('resnet', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  for (const arch of ['resnet18', 'resnet34', 'resnet50'] as const) {
    it(`${arch}: names, order and (PyTorch) shapes equal torchvision's state_dict minus fc`, async () => {
      await expectNoLeak(() => {
        const { store } = build(arch);
        const ours = store.names().map((n) => [n, torchShape(store.get(n).shape)]);
        expect(ours).toEqual(torchKeys[arch]);
        if (arch === 'resnet50') {
          // torchvision's 161 parameters minus fc.weight/fc.bias; 318 entries with buffers.
          expect(store.names('trainable').length).toBe(159);
          expect(store.names().length).toBe(318);
          expect(store.numElements('trainable')).toBe(25_557_032 - 2048 * 1000 - 1000);
        }
        store.dispose();
      });
    });
  }

  it('initialisation: Kaiming fan-out convs, BN γ=1/β=0, zero-init residual, fresh buffers', async () => {
    await expectNoLeak(() => {
      const { store } = build('resnet50', { width: 16 });
      for (const name of store.names()) {
        const v = store.get(name);
        const data = v.dataSync() as Float32Array;
        if (name.endsWith('num_batches_tracked')) expect(data[0]).toBe(0);
        else if (name.endsWith('running_mean') || name.endsWith('.bias'))
          expect(Math.max(...data.map(Math.abs))).toBe(0);
        else if (name.endsWith('running_var')) expect(Math.min(...data)).toBe(1);
        else if (v.rank === 1) {
          const last = /\.bn3\.weight$/.test(name);
          expect(Math.min(...data), name).toBe(last ? 0 : 1);
          expect(Math.max(...data), name).toBe(last ? 0 : 1);
        }
      }
      const w = store.get('layer4.1.conv2.weight'); // [3, 3, 128, 128]
      const expected = Math.sqrt(2 / (3 * 3 * 128));
      expect(std(w.dataSync() as Float32Array) / expected).toBeGreaterThan(0.98);
      expect(std(w.dataSync() as Float32Array) / expected).toBeLessThan(1.02);
      store.dispose();
    });
    const { store } = build('resnet18', { width: 8 });
    expect(
      store
        .names()
        .filter((n) => /bn2\.weight$/.test(n))
        .every((n) =>
          store
            .get(n)
            .dataSync()
            .every((v) => v === 0),
        ),
    ).toBe(true);
    expect(
      store
        .get('layer1.0.bn1.weight')
        .dataSync()
        .every((v) => v === 1),
    ).toBe(true);
    store.dispose();
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const a = build('resnet18', { width: 4 }, 7);
    const b = build('resnet18', { width: 4 }, 7);
    const c = build('resnet18', { width: 4 }, 8);
    const wa = a.store.get('layer2.0.conv1.weight').dataSync();
    expect(Array.from(b.store.get('layer2.0.conv1.weight').dataSync())).toEqual(Array.from(wa));
    expect(Array.from(c.store.get('layer2.0.conv1.weight').dataSync())).not.toEqual(Array.from(wa));
    [a, b, c].forEach((m) => m.store.dispose());
  });

  it('output shapes: width multiplier, CIFAR stem, any channel count', async () => {
    const cases: [
      ResNetArch,
      Parameters<typeof resnetSpec>[1],
      [number, number, number, number],
      number,
    ][] = [
      ['resnet18', { width: 8, cifarStem: true, inChannels: 1 }, [2, 12, 12, 1], 64],
      ['resnet34', { width: 4 }, [3, 32, 32, 3], 32],
      ['resnet50', { width: 4, inChannels: 2 }, [2, 24, 24, 2], 128],
    ];
    for (const [arch, opts, shape, dim] of cases) {
      const { spec, store } = build(arch, opts);
      expect(resnetFeatureDim(spec)).toBe(dim);
      const x = tf.randomNormal(shape) as Tensor4D;
      await expectNoLeak(() => {
        for (const training of [false, true]) {
          const y = resnetForward(store.scope(''), spec, x, { training });
          expect(y.shape).toEqual([shape[0], dim]);
          expect(y.dataSync().every(Number.isFinite)).toBe(true);
          y.dispose();
        }
      });
      x.dispose();
      store.dispose();
    }
    // Stem stride: a 7×7/2 conv + 3×3/2 pool reduces 32 → 8 before layer1.
    const { spec, store } = build('resnet18', { width: 4 });
    const bad = tf.zeros([1, 8, 8, 1]) as Tensor4D;
    expect(() => resnetForward(store.scope(''), spec, bad, { training: false })).toThrow(
      /\[N, H, W, 3\]/,
    );
    bad.dispose();
    store.dispose();
  });

  it('rejects unknown arch and bad widths', () => {
    expect(() => resnetSpec('resnet101' as ResNetArch)).toThrow(/unknown arch/);
    expect(() => resnetSpec('resnet18', { width: 0 })).toThrow(/width/);
    expect(() => resnetSpec('resnet18', { inChannels: 1.5 })).toThrow(/inChannels/);
  });
});
