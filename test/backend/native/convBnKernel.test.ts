import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { Tensor4D } from '../../../src/backend/tf';
import { loadNative } from '../../../src/backend/native/addon';
import { CARP_CONV_BN_INFERENCE, foldableGeometry } from '../../../src/backend/native/convBnKernel';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { convBatchNorm, initBatchNorm } from '../../../src/models/layers';
import { ParamStore } from '../../../src/models/params';
import { initResNet, resnetForward, resnetSpec } from '../../../src/models/resnet';
import { createRng } from '../../../src/random';
import { expectClose, expectNoLeak } from '../../helpers/tensors';
import { initBothBackends } from '../compareBackends';

const available = loadNative().addon !== undefined;

/** A BN layer `bn` of `c` channels with running statistics far from 0 and 1. */
function bnStore(c: number, seed: number): ParamStore {
  const s = new ParamStore(`fold-${seed}`);
  initBatchNorm(s.scope(''), 'bn', c);
  const rng = createRng(seed);
  const set = (name: string, f: () => number) =>
    s.get(name).assign(tf.tensor1d(Array.from({ length: c }, f)));
  set('bn.weight', () => 0.5 + rng.next());
  set('bn.bias', () => rng.normal());
  set('bn.running_mean', () => rng.normal());
  set('bn.running_var', () => 0.2 + 2 * rng.next());
  return s;
}

const randn = (shape: number[], seed: number) =>
  tf.randomNormal(shape as [number, number, number, number], 0, 1, 'float32', seed) as Tensor4D;

describe.runIf(available)('folded evaluation conv → batch norm', () => {
  beforeAll(async () => {
    await initBothBackends();
    useNativeKernels(true);
  });

  it('matches conv2d then the evaluation batch norm: stems, strides, 1×1 shortcut, residual + ReLU', () => {
    // [input shape, filter size, in, out, stride, pad, relu, residual]
    const cases: [number[], number, number, number, number, number, boolean, boolean][] = [
      [[4, 9, 9, 3], 3, 3, 8, 1, 1, true, false], // CIFAR stem
      [[2, 16, 16, 1], 7, 1, 8, 2, 3, true, false], // ImageNet stem
      [[3, 8, 8, 8], 3, 8, 16, 2, 1, true, false], // strided 3×3
      [[3, 8, 8, 8], 1, 8, 16, 2, 0, false, false], // 1×1 shortcut on an even map
      [[2, 7, 7, 16], 3, 16, 16, 1, 1, true, true], // a block's end
    ];
    for (const [i, [shape, k, cin, cout, stride, pad, relu, hasResidual]] of cases.entries()) {
      const s = bnStore(cout, i + 1);
      const x = randn(shape, 10 + i);
      const w = tf.mul(randn([k, k, cin, cout], 20 + i), 0.3) as Tensor4D;
      const ho = Math.floor((shape[1] + 2 * pad - k) / stride) + 1;
      const residual = hasResidual ? randn([shape[0], ho, ho, cout], 30 + i) : undefined;
      const run = (folded: boolean) =>
        tf.tidy(() =>
          Array.from(
            convBatchNorm(
              s.scope(''),
              'bn',
              x,
              w,
              stride,
              pad,
              { training: false, folded },
              {
                relu,
                residual,
              },
            ).dataSync(),
          ),
        );
      const [folded, plain] = [run(true), run(false)];
      expectClose(folded, plain, { atol: 1e-5, rtol: 1e-5, label: `case ${i}` });
      if (relu) expect(folded.filter((v) => v === 0).length).toBeGreaterThan(folded.length / 10);
      tf.dispose([x, w, ...(residual ? [residual] : [])]);
      s.dispose();
    }
  });

  it('a whole ResNet-18 (width 8, CIFAR stem): folded features match the unfolded ones', () => {
    const spec = resnetSpec('resnet18', { width: 8, cifarStem: true, inChannels: 3 });
    const store = new ParamStore('fold-net');
    initResNet(store.scope(''), spec, createRng(5));
    const x = randn([3, 16, 16, 3], 6);
    const run = (folded: boolean) =>
      tf.tidy(() =>
        Array.from(resnetForward(store.scope(''), spec, x, { training: false, folded }).dataSync()),
      );
    expectClose(run(true), run(false), { atol: 1e-5, rtol: 1e-4, label: 'features' });
    tf.dispose(x);
    store.dispose();
  });

  it('is one kernel per unit, leaves no tensor behind, and stays off in training mode', async () => {
    const s = bnStore(4, 9);
    const x = randn([2, 5, 5, 4], 1);
    const w = randn([3, 3, 4, 4], 2);
    const f = (training: boolean) =>
      convBatchNorm(s.scope(''), 'bn', x, w, 1, 1, { training, folded: true }, { relu: true });
    const info = await tf.profile(() => f(false));
    expect(info.kernelNames).toContain(CARP_CONV_BN_INFERENCE);
    expect(info.kernelNames).not.toContain('Conv2D');
    tf.dispose(info.result as tf.Tensor);
    await expectNoLeak(() => f(false).dispose());
    const train = await tf.profile(() => f(true));
    expect(train.kernelNames).not.toContain(CARP_CONV_BN_INFERENCE);
    tf.dispose(train.result as tf.Tensor);
    // No gradient: feature extraction only.
    expect(() =>
      tf.grad((t: tf.Tensor) =>
        tf.sum(
          convBatchNorm(
            s.scope(''),
            'bn',
            t as Tensor4D,
            w,
            1,
            1,
            { training: false, folded: true },
            { relu: true },
          ),
        ),
      )(x),
    ).toThrow(/CarpConvBnInference/);
    tf.dispose([x, w]);
    s.dispose();
  });

  it('knows which geometries oneDNN takes, and refuses bad per-channel vectors by name', () => {
    const attrs = { strides: 2, pad: 'valid' as const, relu: false, residual: false };
    expect(foldableGeometry([1, 8, 8, 4], [1, 1, 4, 4], attrs)).toBe(true);
    expect(foldableGeometry([1, 9, 9, 4], [3, 3, 4, 4], { ...attrs, strides: 1 })).toBe(true);
    const [x, w, scale, shift] = [
      tf.ones([1, 4, 4, 2]),
      tf.ones([3, 3, 2, 3]),
      tf.ones([2]),
      tf.ones([3]),
    ];
    expect(() =>
      tf.engine().runKernel(CARP_CONV_BN_INFERENCE, { x, filter: w, scale, shift }, {
        strides: 1,
        pad: 'valid',
        relu: false,
        residual: false,
      } as unknown as tf.NamedAttrMap),
    ).toThrow('CarpConvBnInference: scale has 2 values, expected 3 (output channels)');
    tf.dispose([x, w, scale, shift]);
  });
});
