/**
 * State_dict → carp-kit mapping (src/interop/mapping.ts, loadNetwork.ts): renaming as the
 * reference's evaluation loader does, layout conversion, missing/unexpected reports,
 * shape refusals naming the key, and architecture inference.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamStore } from '../../src/models/params';
import { initResNet, resnetSpec } from '../../src/models/resnet';
import { createRng } from '../../src/random';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { inferCarpNetworkSpec, loadCarpNetwork } from '../../src/interop/loadNetwork';
import {
  canonicalKey,
  mapToCarpKit,
  tfjsConvToTorch,
  torchConvToTfjs,
  type ParamTarget,
} from '../../src/interop/mapping';
import type { TorchTensor } from '../../src/interop/torchTensor';
import { PROJECT_ROOT } from '../helpers/golden';
import { initTestBackend } from '../helpers/tensors';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'interop');

const f32 = (shape: number[], fill = (i: number) => i): TorchTensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

/** A target with fixed names and shapes, no tensors needed. */
function target(entries: [string, number[], string?][]): ParamTarget {
  const m = new Map(entries.map(([n, shape, dtype]) => [n, { shape, dtype: dtype ?? 'float32' }]));
  return { names: () => [...m.keys()], get: (n) => m.get(n)! };
}

describe('mapToCarpKit', () => {
  it('renames like the reference evaluation loader (drops module. and backbone.)', () => {
    expect(canonicalKey('module.backbone.layer1.0.bn1.weight')).toBe('layer1.0.bn1.weight');
    expect(canonicalKey('module.head.mlp.0.weight')).toBe('head.mlp.0.weight');
    expect(canonicalKey('backbone.conv1.weight')).toBe('conv1.weight');
  });

  it('converts conv kernels [out, in, kh, kw] → [kh, kw, in, out], keeps linear/BN/weight-norm layouts', () => {
    const src = new Map<string, TorchTensor>([
      ['module.backbone.conv1.weight', f32([2, 3, 1, 2])],
      ['module.backbone.bn1.running_var', f32([2], (i) => i + 1)],
      [
        'module.backbone.bn1.num_batches_tracked',
        { dtype: 'int64', shape: [], data: new BigInt64Array([12n]) },
      ],
      ['module.head.mlp.0.weight', f32([4, 2])],
      ['module.head.last_layer.weight_g', f32([3, 1], () => 1)],
      [
        'module.head.last_layer.weight_v',
        { dtype: 'float16', shape: [3, 4], data: new Float32Array(12).fill(0.5) },
      ],
    ]);
    const m = mapToCarpKit(
      src,
      target([
        ['backbone.conv1.weight', [1, 2, 3, 2]],
        ['backbone.bn1.running_var', [2]],
        ['backbone.bn1.num_batches_tracked', [], 'int32'],
        ['head.mlp.0.weight', [4, 2]],
        ['head.last_layer.weight_g', [3, 1]],
        ['head.last_layer.weight_v', [3, 4]],
      ]),
      { strict: true },
    );
    // out o, in i, kw x: source index ((o·3 + i)·1 + 0)·2 + x → target ((0·2 + x)·3 + i)·2 + o
    const conv = m.arrays.get('backbone.conv1.weight')!;
    expect(conv.shape).toEqual([1, 2, 3, 2]);
    expect(Array.from(conv.data as Float32Array)).toEqual([0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11]);
    expect(m.arrays.get('backbone.bn1.num_batches_tracked')).toEqual({
      dtype: 'I32',
      shape: [],
      data: new Int32Array([12]),
    });
    expect(m.arrays.get('head.mlp.0.weight')!.data).toEqual(
      src.get('module.head.mlp.0.weight')!.data,
    );
    expect(m.arrays.get('head.last_layer.weight_v')!.dtype).toBe('F32');
  });

  it('conv layout helpers are inverse permutations', () => {
    const shape = [3, 2, 5, 4];
    const d = Float32Array.from({ length: 120 }, (_, i) => i);
    const tf = torchConvToTfjs(d, shape);
    expect(tfjsConvToTorch(tf, [5, 4, 2, 3])).toEqual(d);
  });

  it('reports missing and unexpected keys; strict makes them an error', () => {
    const src = new Map<string, TorchTensor>([
      ['conv1.weight', f32([1, 1, 1, 1])],
      ['fc.weight', f32([10, 1])],
      ['fc.bias', f32([10])],
    ]);
    const t = target([
      ['backbone.conv1.weight', [1, 1, 1, 1]],
      ['backbone.bn1.weight', [1]],
    ]);
    const m = mapToCarpKit(src, t);
    expect(m.missing).toEqual(['backbone.bn1.weight']);
    expect(m.unexpected).toEqual(['fc.weight', 'fc.bias']);
    expect(() => mapToCarpKit(src, t, { strict: true })).toThrow(
      /missing \[backbone\.bn1\.weight\], unexpected \[fc\.weight, fc\.bias\]/,
    );
    expect(mapToCarpKit(src, t, { ignore: /^fc\./ }).unexpected).toEqual([]);
  });

  it('refuses shape mismatches, naming the checkpoint key and our name', () => {
    const src = new Map([['module.backbone.conv1.weight', f32([64, 3, 7, 7])]]);
    expect(() => mapToCarpKit(src, target([['backbone.conv1.weight', [3, 3, 3, 64]]]))).toThrow(
      "shape mismatch for 'module.backbone.conv1.weight' → 'backbone.conv1.weight': checkpoint [7,7,3,64] (PyTorch [64,3,7,7] as [kh, kw, in, out]), model [3,3,3,64]",
    );
    const lin = new Map([['module.head.mlp.0.weight', f32([8, 4])]]);
    expect(() => mapToCarpKit(lin, target([['head.mlp.0.weight', [4, 8]]]))).toThrow(
      /'module\.head\.mlp\.0\.weight' → 'head\.mlp\.0\.weight': checkpoint \[8,4\], model \[4,8\]/,
    );
  });

  it('refuses ambiguous sources and integer tensors for float parameters', () => {
    const dup = new Map([
      ['module.conv1.weight', f32([1])],
      ['backbone.conv1.weight', f32([1])],
    ]);
    expect(() => mapToCarpKit(dup, target([]))).toThrow(/both map to 'conv1\.weight'/);
    const int = new Map<string, TorchTensor>([
      ['w', { dtype: 'int64', shape: [1], data: new BigInt64Array(1) }],
    ]);
    expect(() => mapToCarpKit(int, target([['w', [1]]]))).toThrow(
      /'w' is int64, expected a floating-point tensor/,
    );
  });
});

describe('inferCarpNetworkSpec / loadCarpNetwork', () => {
  beforeAll(async () => {
    await initTestBackend();
  });

  it('infers a CIFAR-stem ResNet-18 and the head from the tiny training dictionary', () => {
    const spec = inferCarpNetworkSpec(loadTorchCheckpoint(join(FIXTURES, 'tiny-carp.pth')).tensors);
    expect(spec).toEqual({
      backbone: { block: 'basic', layers: [2, 2, 2, 2], width: 4, cifarStem: true, inChannels: 3 },
      head: {
        inDim: 32,
        hiddenDim: 24,
        bottleneckDim: 8,
        numPrototypes: 16,
        batchNorm: true,
        numLayers: 3,
      },
    });
  });

  it('infers a bottleneck ResNet-50 with the ImageNet stem', () => {
    const spec = inferCarpNetworkSpec(loadTorchCheckpoint(join(FIXTURES, 'tiny-r50.pth')).tensors);
    expect(spec.backbone).toEqual(resnetSpec('resnet50', { width: 2 }));
  });

  it('a torchvision-style state_dict (no head, with fc) gives a backbone-only network', () => {
    // Build one: our tiny backbone under torchvision names, plus an fc layer.
    const c = loadTorchCheckpoint(join(FIXTURES, 'tiny-carp.pth'));
    const tv = new Map<string, TorchTensor>();
    for (const [k, t] of c.tensors) if (k.startsWith('module.backbone.')) tv.set(k.slice(16), t);
    tv.set('fc.weight', f32([10, 32]));
    tv.set('fc.bias', f32([10]));
    const spec = inferCarpNetworkSpec(tv);
    expect(spec.head).toBeNull();
    const store = new ParamStore('tv', false);
    try {
      initResNet(store.scope('backbone.'), spec.backbone, createRng(0));
      const m = mapToCarpKit(tv, store);
      expect(m.missing).toEqual([]);
      expect(m.unexpected).toEqual(['fc.weight', 'fc.bias']);
    } finally {
      store.dispose();
    }
  });

  it('explains a state_dict that is not a ResNet', () => {
    expect(() => inferCarpNetworkSpec(new Map([['encoder.weight', f32([2, 2])]]))).toThrow(
      /no 4-D 'conv1\.weight'.*first keys: encoder\.weight/,
    );
  });

  it('loadCarpNetwork fills a store from the teacher with nothing missing or unexpected', () => {
    const net = loadCarpNetwork(join(FIXTURES, 'tiny-carp.pth'));
    try {
      expect([net.missing, net.unexpected]).toEqual([[], []]);
      expect(net.params.get('backbone.bn1.num_batches_tracked').dataSync()[0]).toBe(7);
      expect(net.params.get('head.last_layer.weight_g').shape).toEqual([16, 1]);
      expect(net.params.trainableVariables().every((v) => !v.trainable)).toBe(true);
    } finally {
      net.params.dispose();
    }
  });
});
