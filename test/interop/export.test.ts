/**
 * Export for PyTorch users (src/interop/export.ts, torchWriter.ts): PyTorch layouts and
 * names, exact round trips through our own reader, and — when python3-torch is present —
 * PyTorch itself loads the files (strict, `weights_only=True`) and reproduces our forward.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { carpHeadForward } from '../../src/models/carpHead';
import { resnetForward } from '../../src/models/resnet';
import { createRng } from '../../src/random';
import { decodeSafetensors, type NamedArray } from '../../src/util/safetensors';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { saveTorchPth, saveTorchSafetensors, toTorchStateDict } from '../../src/interop/export';
import { loadCarpNetwork, type LoadedNetwork } from '../../src/interop/loadNetwork';
import { mapToCarpKit } from '../../src/interop/mapping';
import type { TorchTensor } from '../../src/interop/torchTensor';
import { PROJECT_ROOT } from '../helpers/golden';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'interop');
const TINY = join(FIXTURES, 'tiny-carp.pth');
const PYTHON = '/usr/bin/python3';

function hasTorch(): boolean {
  try {
    return existsSync(PYTHON) && (execFileSync(PYTHON, ['-c', 'import torch, torchvision']), true);
  } catch {
    return false;
  }
}

function asTorch(a: NamedArray): TorchTensor {
  const dtype = a.dtype === 'I64' ? 'int64' : a.dtype === 'I32' ? 'int32' : 'float32';
  return { dtype, shape: a.shape, data: a.data as TorchTensor['data'] };
}

/** Every entry of two stores, compared exactly. */
function expectSameParams(a: LoadedNetwork, b: LoadedNetwork): void {
  expect(b.params.names()).toEqual(a.params.names());
  for (const n of a.params.names()) {
    expect(Array.from(b.params.get(n).dataSync()), n).toEqual(
      Array.from(a.params.get(n).dataSync()),
    );
  }
}

describe('export', () => {
  let dir = '';
  let net: LoadedNetwork;
  beforeAll(async () => {
    await initTestBackend();
    dir = mkdtempSync(join(tmpdir(), 'carp-export-'));
    net = loadCarpNetwork(TINY);
  });
  afterAll(() => {
    net?.params.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes back exactly the tensors, names and layouts it read', () => {
    const original = loadTorchCheckpoint(TINY).tensors;
    const sd = toTorchStateDict(net.params, { prefix: 'module.' });
    expect([...sd.keys()]).toEqual([...original.keys()]);
    for (const [k, t] of original) {
      const e = sd.get(k)!;
      expect(e.shape, k).toEqual(t.shape);
      expect(Array.from(e.data as ArrayLike<unknown>), k).toEqual(
        Array.from(t.data as ArrayLike<unknown>),
      );
    }
  });

  it('torchvision layout: backbone only, plain torchvision names', () => {
    const sd = toTorchStateDict(net.params, { layout: 'torchvision' });
    expect([...sd.keys()].slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    expect([...sd.keys()].some((k) => k.startsWith('head.') || k.startsWith('backbone.'))).toBe(
      false,
    );
    expect(sd.get('layer4.1.bn2.num_batches_tracked')).toEqual({
      dtype: 'I64',
      shape: [],
      data: new BigInt64Array([7n]),
    });
  });

  it('.pth round trip: our reader loads our writer exactly (training-dictionary layout)', () => {
    const path = join(dir, 'rt.pth');
    saveTorchPth(path, net.params, {
      prefix: 'module.',
      wrap: 'teacher',
      extra: { epoch: 3, arch: 'resnet18' },
    });
    const back = loadCarpNetwork(path);
    try {
      expect(back.meta.epoch).toBe(3);
      expect(back.meta.other).toEqual({ arch: 'resnet18' });
      expect(back.spec).toEqual(net.spec);
      expect([back.missing, back.unexpected]).toEqual([[], []]);
      expectSameParams(net, back);
    } finally {
      back.params.dispose();
    }
  });

  it('safetensors round trip: decode + mapToCarpKit restores every entry', () => {
    const path = join(dir, 'rt.safetensors');
    saveTorchSafetensors(path, net.params);
    const { tensors, metadata } = decodeSafetensors(readFileSync(path));
    expect(metadata).toMatchObject({ format: 'pt', 'carp-kit.layout': 'carp' });
    const asTorchMap = new Map([...tensors].map(([k, a]) => [k, asTorch(a)]));
    const mapped = mapToCarpKit(asTorchMap, net.params, { strict: true });
    for (const n of net.params.names()) {
      expect(Array.from(mapped.arrays.get(n)!.data as ArrayLike<number>), n).toEqual(
        Array.from(net.params.get(n).dataSync()),
      );
    }
  });

  describe.skipIf(!hasTorch())('read by PyTorch (python3-torch present)', () => {
    const x = { shape: [2, 3, 16, 16] as [number, number, number, number], data: [] as number[] };
    let ours: { features: Float32Array; logits: Float32Array };
    beforeAll(async () => {
      // Perturb every float entry so the exported network is not the committed fixture.
      const rng = createRng(5);
      for (const n of net.params.names()) {
        const v = net.params.get(n);
        if (v.dtype !== 'float32') continue;
        // Factors near 1 (kept positive, so running variances stay valid).
        const noise = Float32Array.from({ length: v.size }, () => Math.abs(1 + 0.1 * rng.normal()));
        tf.tidy(() => v.assign(tf.mul(v, tf.tensor(noise, v.shape))));
      }
      x.data = Array.from({ length: 2 * 3 * 16 * 16 }, () => rng.normal());
      ours = await expectNoLeak(async () => {
        const xs = tf.tidy(() =>
          tf.transpose(tf.tensor4d(x.data, x.shape), [0, 2, 3, 1]),
        ) as Tensor4D;
        const f = resnetForward(net.params.scope('backbone.'), net.spec.backbone, xs, {
          training: false,
        });
        const l = carpHeadForward(net.params.scope('head.'), net.spec.head!, f, {
          training: false,
        });
        const out = {
          features: (await f.data()) as Float32Array,
          logits: (await l.data()) as Float32Array,
        };
        tf.dispose([xs, f, l]);
        return out;
      });
    });

    function runTorch(weights: string, layout: 'carp' | 'torchvision') {
      const h = net.spec.head!;
      const req = {
        weights,
        layout,
        spec: {
          arch: 'resnet18',
          width: net.spec.backbone.width,
          cifarStem: net.spec.backbone.cifarStem,
          hidden: h.hiddenDim,
          bottleneck: h.bottleneckDim,
          prototypes: h.numPrototypes,
        },
        inputShapeNCHW: x.shape,
        input: x.data,
        out: join(dir, `out-${layout}.json`),
      };
      writeFileSync(join(dir, 'req.json'), JSON.stringify(req));
      execFileSync(PYTHON, [join(FIXTURES, 'torch-forward.py'), join(dir, 'req.json')]);
      return JSON.parse(readFileSync(req.out, 'utf8')) as {
        features: number[];
        logits?: number[];
        num_batches_tracked?: number;
      };
    }

    it('torch.load(weights_only=True) reads our .pth; PyTorch matches our forward', () => {
      const path = join(dir, 'teacher.pth');
      saveTorchPth(path, net.params, { prefix: 'module.', wrap: 'teacher', extra: { epoch: 1 } });
      const r = runTorch(path, 'carp');
      expect(r.num_batches_tracked).toBe(7);
      expectClose(ours.features, r.features, { atol: 1e-4, rtol: 0, label: 'features' });
      expectClose(ours.logits, r.logits!, { atol: 1e-4, rtol: 0, label: 'logits' });
    });

    it('torchvision-layout safetensors loads strictly into a torchvision ResNet', () => {
      const path = join(dir, 'backbone.safetensors');
      saveTorchSafetensors(path, net.params, { layout: 'torchvision' });
      const r = runTorch(path, 'torchvision');
      expectClose(ours.features, r.features, { atol: 1e-4, rtol: 0, label: 'features' });
    });
  });
});
