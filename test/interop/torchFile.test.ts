/**
 * Reading `torch.save` files (src/interop/torchFile.ts, checkpoint.ts): every storage
 * dtype, general strides and offsets, shared storages, containers and the `args`
 * namespace, against values PyTorch wrote beside the fixture (dtypes.expected.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { loadTorchCheckpoint } from '../../src/interop/checkpoint';
import { openTorchFile } from '../../src/interop/torchFile';
import { PyNamespace } from '../../src/interop/torchGlobals';
import { TorchTensorRef, halfToFloat } from '../../src/interop/torchTensor';
import { PROJECT_ROOT } from '../helpers/golden';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'interop');
const DTYPES = join(FIXTURES, 'dtypes.pth');
const LEGACY = join(FIXTURES, 'dtypes-legacy.pth');

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: (number | string)[];
}

const expected = JSON.parse(readFileSync(join(FIXTURES, 'dtypes.expected.json'), 'utf8')) as Record<
  string,
  ExpectedTensor
>;

describe.each([
  ['zip format', DTYPES],
  ['legacy (pre-1.6) format', LEGACY],
])('dtypes fixture written by torch.save, %s', (_format, file) => {
  const ckpt = loadTorchCheckpoint(file, { entry: 'tensors' });

  it.each(Object.keys(expected))('tensor %s: dtype, shape and values', (key) => {
    const e = expected[key];
    const t = ckpt.tensors.get(key)!;
    expect(t, key).toBeDefined();
    expect(t.dtype).toBe(e.dtype);
    expect(t.shape).toEqual(e.shape);
    const got = Array.from(t.data as ArrayLike<number | bigint>, (v) =>
      typeof v === 'bigint' ? v.toString() : v,
    );
    const want = e.values.map((v) =>
      e.dtype === 'int64' ? v : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v,
    );
    expect(got).toEqual(e.dtype === 'bool' ? want.map(Number) : want);
  });

  it('keeps the file order of keys and reports the other entries as metadata', () => {
    expect([...ckpt.tensors.keys()]).toEqual(Object.keys(expected));
    expect(ckpt.meta.entry).toBe('tensors');
    expect(ckpt.meta.keys).toEqual(['tensors', 'nested', 'args']);
    expect(ckpt.meta.args).toEqual({
      lr: 0.3,
      arch: 'resnet50',
      crops: [2, 6],
      flag: false,
      none: null,
    });
    expect(ckpt.meta.other.nested).toEqual({
      list: [1, 2.5, 'x', null, true],
      tuple: [1, [2, 3]],
      '7': 'int key',
      big: (2n ** 70n).toString(),
      neg: -5,
      bytes: [0, 255],
    });
  });

  it('exposes the raw object graph: lazy tensor refs, shared storages, int keys, namespaces', () => {
    const f = openTorchFile(file);
    try {
      const root = f.root as Map<unknown, unknown>;
      const tensors = root.get('tensors') as Map<string, TorchTensorRef>;
      const a = tensors.get('shared_a')!;
      const b = tensors.get('shared_b')!;
      expect(a.storage).toBe(b.storage); // one storage, two views
      expect([a.offset, b.offset]).toEqual([2, 5]);
      expect(tensors.get('f32_transposed')!.stride).toEqual([1, 12, 4]);
      expect(tensors.get('param')!.requiresGrad).toBe(true);
      expect((root.get('nested') as Map<unknown, unknown>).get(7)).toBe('int key');
      expect(root.get('args')).toBeInstanceOf(PyNamespace);
      expect(f.byteOrder).toBe('little');
      expect(f.version).toBe(file === LEGACY ? 'legacy 1001' : '3');
    } finally {
      f.close();
    }
  });

  it('without an entry, asks which state_dict to read', () => {
    expect(() => loadTorchCheckpoint(file)).toThrow(
      /no state_dict found \(looked for teacher, state_dict, model, student\); top-level keys: tensors, nested, args/,
    );
    expect(() => loadTorchCheckpoint(file, { entry: 'nested' })).toThrow(
      /entry 'nested' is a dict, not a state_dict; state_dicts here: tensors/,
    );
  });
});

describe('training dictionaries and plain state_dicts', () => {
  it('reads the teacher of a CARP training dictionary by default, with epoch and args', () => {
    const c = loadTorchCheckpoint(join(FIXTURES, 'tiny-carp.pth'));
    expect(c.meta.entry).toBe('teacher');
    expect(c.meta.stateDicts).toEqual(['student', 'teacher']);
    expect(c.meta.epoch).toBe(400);
    expect(c.meta.args?.arch).toBe('resnet18');
    expect(c.meta.args?.global_crops_scale).toEqual([0.14, 1.0]);
    expect(c.meta.other.fp16_scaler).toMatchObject({ scale: 65536 });
    expect(c.tensors.get('module.backbone.conv1.weight')!.shape).toEqual([4, 3, 3, 3]);
    expect(c.tensors.get('module.head.last_layer.weight_g')!.shape).toEqual([16, 1]);
    expect(c.tensors.get('module.backbone.bn1.num_batches_tracked')).toMatchObject({
      dtype: 'int64',
      data: new BigInt64Array([7n]),
    });
  });

  it('reads the student when asked, and it differs from the teacher', () => {
    const s = loadTorchCheckpoint(join(FIXTURES, 'tiny-carp.pth'), { entry: 'student' });
    const t = loadTorchCheckpoint(join(FIXTURES, 'tiny-carp.pth'));
    expect([...s.tensors.keys()]).toEqual([...t.tensors.keys()]);
    const k = 'module.backbone.conv1.weight';
    expect(s.tensors.get(k)!.data).not.toEqual(t.tensors.get(k)!.data);
  });

  it('reads a bare state_dict (torchvision style) from bytes, deflated or stored', () => {
    // A hand-made archive: OrderedDict{'w': float32 [2] from storage '0'}.
    const pkl = Uint8Array.from(
      '\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n' +
        '((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQ' +
        'K\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu.',
      (c) => c.charCodeAt(0),
    );
    const data = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    for (const level of [0, 6] as const) {
      const zip = zipSync({
        'resnet/data.pkl': [pkl, { level }],
        'resnet/data/0': [data, { level }],
      });
      const c = loadTorchCheckpoint(zip);
      expect(c.meta.entry).toBeNull();
      expect(c.meta.prefix).toBe('resnet');
      expect(c.tensors.get('w')).toEqual({
        dtype: 'float32',
        shape: [2],
        data: new Float32Array([1.5, -2]),
      });
    }
    // The same bytes written big-endian, as a `byteorder: big` archive would hold them.
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 1.5, false);
    new DataView(be.buffer).setFloat32(4, -2, false);
    const zip = zipSync(
      { 'a/data.pkl': pkl, 'a/data/0': be, 'a/byteorder': new TextEncoder().encode('big') },
      { level: 0 },
    );
    expect(loadTorchCheckpoint(zip).tensors.get('w')!.data).toEqual(new Float32Array([1.5, -2]));
  });

  it('gives clear errors for files that are not torch zips', () => {
    expect(() => loadTorchCheckpoint(new Uint8Array([1, 2, 3]))).toThrow(/not a zip file/);
    expect(() => loadTorchCheckpoint(Uint8Array.from([0x80, 2, 0x4b, 7, 0x2e]))).toThrow(
      /neither a zip nor a legacy torch file \(magic number 7\)/,
    );
    expect(() => loadTorchCheckpoint(zipSync({ 'x/y.txt': new Uint8Array(1) }))).toThrow(
      /no '<prefix>\/data\.pkl'/,
    );
  });
});

describe('halfToFloat', () => {
  it.each([
    [0x3c00, 1],
    [0xc000, -2],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x7c00, Infinity],
    [0x8000, -0],
  ])('bits %i → %s', (bits, value) => {
    expect(halfToFloat(bits)).toBe(value);
  });
});
