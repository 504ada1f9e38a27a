import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import { carpNetworkSpec, createCarpParams } from '../../src/models/carpNetwork';
import { ParamStore, fromTorchLayout, toTorchLayout, torchShape } from '../../src/models/params';
import { resnetSpec } from '../../src/models/resnet';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';

const spec = carpNetworkSpec(resnetSpec('resnet18', { width: 4, cifarStem: true, inChannels: 1 }), {
  hiddenDim: 16,
  bottleneckDim: 8,
  numPrototypes: 24,
  batchNorm: true,
  numLayers: 3,
});

describe('ParamStore', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('clone is an exact, independent copy of parameters and buffers; copyFrom restores it', async () => {
    await expectNoLeak(() => {
      const student = createCarpParams(spec, createRng(0), 'student');
      tf.tidy(() => student.get('backbone.bn1.running_mean').assign(tf.fill([4], 0.5)));
      const teacher = student.clone('teacher', false);
      expect(teacher.names()).toEqual(student.names());
      for (const n of student.names()) {
        expect(teacher.kind(n)).toBe(student.kind(n));
        expect(Array.from(teacher.get(n).dataSync())).toEqual(
          Array.from(student.get(n).dataSync()),
        );
        expect(teacher.get(n).trainable).toBe(false);
      }
      expect(student.get('backbone.conv1.weight').trainable).toBe(true);
      expect(student.get('backbone.bn1.running_mean').trainable).toBe(false);
      expect(student.get('head.last_layer.weight_g').trainable).toBe(false);
      // Independent storage.
      tf.tidy(() => student.get('head.mlp.0.bias').assign(tf.ones([16])));
      expect(teacher.get('head.mlp.0.bias').dataSync()[0]).toBe(0);
      teacher.copyFrom(student);
      expect(teacher.get('head.mlp.0.bias').dataSync()[0]).toBe(1);
      // Engine names are unique per store and translate back.
      expect(student.varName('backbone.conv1.weight')).not.toBe(
        teacher.varName('backbone.conv1.weight'),
      );
      expect(teacher.paramNameOf(teacher.varName('head.mlp.6.weight'))).toBe('head.mlp.6.weight');
      student.dispose();
      teacher.dispose();
    });
  });

  it('parameter views: trainable, frozen, buffers; counts', () => {
    const s = createCarpParams(spec, createRng(0));
    const params = s.parameterNames();
    expect(params).toContain('head.last_layer.weight_g');
    expect(params.some((n) => n.includes('running'))).toBe(false);
    expect(s.names('buffer').every((n) => /running_(mean|var)$|num_batches_tracked$/.test(n))).toBe(
      true,
    );
    expect(s.trainableVariables().length).toBe(params.length - 1);
    expect(s.numElements()).toBe(
      s.numElements('trainable') + s.numElements('frozen') + s.numElements('buffer'),
    );
    s.dispose();
  });

  it('errors name the parameter; a disposed store refuses work', () => {
    const s = new ParamStore('x');
    s.add('a', tf.zeros([2]));
    expect(() => s.add('a', tf.zeros([2]))).toThrow(/duplicate parameter 'a'/);
    expect(() => s.get('b')).toThrow(/no parameter 'b'/);
    const t = new ParamStore('y');
    t.add('a', tf.zeros([3]));
    expect(() => t.copyFrom(s)).toThrow(/'a' is float32\[2\]/);
    s.dispose();
    t.dispose();
    expect(() => s.add('c', tf.zeros([1]))).toThrow(/disposed/);
  });

  it('PyTorch layout mapping of conv kernels', () => {
    const torch = tf.tensor4d(
      Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => i),
      [2, 3, 2, 2],
    ); // [out, in, kh, kw]
    const ours = fromTorchLayout(torch);
    expect(ours.shape).toEqual([2, 2, 3, 2]);
    // ours[kh][kw][in][out] = torch[out][in][kh][kw]
    expect(ours.bufferSync().get(1, 0, 2, 1)).toBe(torch.bufferSync().get(1, 2, 1, 0));
    const back = toTorchLayout(ours);
    expect(Array.from(back.dataSync())).toEqual(Array.from(torch.dataSync()));
    expect(torchShape([3, 3, 16, 32])).toEqual([32, 16, 3, 3]);
    expect(torchShape([65536, 256])).toEqual([65536, 256]);
    tf.dispose([torch, ours, back]);
  });
});
