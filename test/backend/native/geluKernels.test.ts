import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { loadNative } from '../../../src/backend/native/addon';
import { CARP_GELU, CARP_GELU_GRAD } from '../../../src/backend/native/geluKernels';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { gelu } from '../../../src/models/layers';
import { expectClose, expectNoLeak } from '../../helpers/tensors';
import { compare, initBothBackends } from '../compareBackends';

const available = loadNative().addon !== undefined;

describe.runIf(available)('GELU on the addon', () => {
  beforeAll(async () => {
    await initBothBackends();
    useNativeKernels(true);
  });

  it('matches the cpu composite in value and gradient (whole registers, a tail, one value)', async () => {
    for (const shape of [[48, 32], [3, 7], [1]]) {
      await compare(`gelu [${shape}]`, (x) => gelu(x), [{ shape }], 1e-6);
    }
  });

  it('matches hand values: Φ at 0, ±1, ±3 and far out', () => {
    // x·Φ(x) with Φ(1) = 0.841344746, Φ(3) = 0.998650102; GELU'(x) = Φ(x) + x·φ(x).
    const xs = [0, 1, -1, 3, -3, 10, -10];
    const x = tf.tensor1d(xs);
    const y = gelu(x);
    expectClose(y.dataSync(), [0, 0.841344746, -0.158655254, 2.995950306, -0.004049694, 10, 0], {
      atol: 3e-7,
      rtol: 1e-6,
    });
    const g = tf.grad((t: tf.Tensor) => gelu(t))(x);
    const phi = (v: number) => Math.exp((-v * v) / 2) / Math.sqrt(2 * Math.PI);
    expectClose(
      g.dataSync(),
      [
        0.5,
        0.841344746 + phi(1),
        0.158655254 - phi(1),
        0.998650102 + 3 * phi(3),
        0.001349898 - 3 * phi(3),
        1,
        0,
      ],
      { atol: 3e-7, rtol: 1e-6 },
    );
    tf.dispose([x, y, g]);
  });

  it('is one kernel each way, leaving no tensor behind', async () => {
    const x = tf.randomNormal([5, 33]);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x));
    expect(info.kernelNames).toContain(CARP_GELU);
    expect(info.kernelNames).toContain(CARP_GELU_GRAD);
    expect(info.kernelNames).not.toContain('Erf');
    tf.dispose(info.result as tf.Tensor);
    await expectNoLeak(() => tf.dispose(tf.grad((t: tf.Tensor) => tf.sum(gelu(t)))(x)));
    x.dispose();
  });

  it('refuses a gradient of another shape, naming it', () => {
    const [x, dy] = [tf.ones([4]), tf.ones([5])];
    expect(() => tf.engine().runKernel(CARP_GELU_GRAD, { dy, x })).toThrow(
      'CarpGeluGrad: dy has shape [5], expected [4] like x',
    );
    tf.dispose([x, dy]);
  });
});
