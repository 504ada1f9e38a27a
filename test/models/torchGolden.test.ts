/**
 * Our ResNet / head against PyTorch itself: entries filled by a closed-form formula in
 * PyTorch layout, outputs (eval and train mode), running stats after one training forward
 * and gradients of sum(out·c) compared with fixtures/torch_golden.json (torch 1.13,
 * torchvision 0.14). Checks the conv layout mapping, v1.5 stride placement, padding,
 * max-pool, BN semantics (incl. our closed-form BN gradient) and weight norm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor, Tensor2D, Tensor4D } from '../../src/backend/tf';
import { createRng } from '../../src/random';
import { carpHeadForward, initCarpHead, type HeadSpec } from '../../src/models/carpHead';
import { BatchNormUpdates, type ForwardOptions } from '../../src/models/layers';
import { ParamStore, toTorchLayout } from '../../src/models/params';
import { initResNet, resnetForward, type ResNetSpec } from '../../src/models/resnet';
import { expectClose, expectNoLeak } from '../helpers/tensors';
import { TEST_BACKENDS, useBackend } from '../carp/backends';
import {
  formulaFill,
  loadTorchGolden,
  sinArray,
  type GoldenCase,
  type Summary,
} from './torchFixtures';

const cases = loadTorchGolden();
const byName = (n: string): GoldenCase => {
  const c = cases.find((x) => x.name === n);
  if (!c) throw new Error(`no golden case ${n}`);
  return c;
};

function expectSummary(actual: Float32Array, s: Summary, label: string, tol = 2e-4): void {
  let sum = 0;
  let sumsq = 0;
  for (const v of actual) {
    sum += v;
    sumsq += v * v;
  }
  const scale = Math.sqrt(s.sumsq / actual.length) + 1e-12;
  expectClose(actual.subarray(0, s.head.length), s.head, { atol: tol * scale, rtol: tol, label });
  if (s.values) expectClose(actual, s.values, { atol: tol * scale, rtol: tol, label });
  expect(Math.abs(sum - s.sum), `${label} sum`).toBeLessThan(
    tol * scale * Math.sqrt(actual.length) * 4 + 1e-6,
  );
  expect(Math.abs(sumsq - s.sumsq) / s.sumsq, `${label} sumsq`).toBeLessThan(tol * 4);
}

type Fwd = (store: ParamStore, x: Tensor, o: ForwardOptions) => Tensor2D;

function runCase(c: GoldenCase, store: ParamStore, x: Tensor, forward: Fwd): void {
  formulaFill(store.scope(''), store.names());
  const evalOut = tf.tidy(() => forward(store, x, { training: false }));
  expectSummary(evalOut.dataSync() as Float32Array, c.eval, `${c.name} eval`);
  evalOut.dispose();

  const updates = new BatchNormUpdates();
  const vars = store.trainableVariables();
  let trainOut: Tensor2D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const out = forward(store, x, { training: true, bnUpdates: updates });
    trainOut = tf.keep(out);
    const cc = tf.tensor(sinArray(out.size, 0.11, 0.5), out.shape);
    return tf.sum(tf.mul(out, cc));
  }, vars);
  value.dispose();
  expectSummary(trainOut!.dataSync() as Float32Array, c.train, `${c.name} train`);
  trainOut!.dispose();
  for (const [name, s] of Object.entries(c.grads)) {
    const g = grads[store.varName(name)];
    expect(g, `grad of ${name}`).toBeDefined();
    const gt = toTorchLayout(g);
    expectSummary(gt.dataSync() as Float32Array, s, `${c.name} grad ${name}`, 5e-4);
    gt.dispose();
  }
  tf.dispose(Object.values(grads));
  updates.apply();
  for (const [name, expected] of Object.entries(c.stats)) {
    expectClose(store.get(name).dataSync(), expected, { atol: 1e-5, rtol: 1e-4, label: name });
  }
}

function nhwc(shape: number[]): Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tidy(() =>
    tf.transpose(
      tf.tensor4d(sinArray(n, 0.3), shape as [number, number, number, number]),
      [0, 2, 3, 1],
    ),
  );
}

describe.each(TEST_BACKENDS)('models vs PyTorch (formula-filled weights) on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each([
    [
      'basic-block ResNet [1,1,1,1] width 8, ImageNet stem',
      'basic1111_w8_imagenet_stem',
      { block: 'basic', layers: [1, 1, 1, 1], width: 8, cifarStem: false, inChannels: 3 },
    ],
    [
      'bottleneck ResNet [1,1,1,1] width 8, CIFAR stem, 1 input channel',
      'bottleneck1111_w8_cifar_stem_1ch',
      { block: 'bottleneck', layers: [1, 1, 1, 1], width: 8, cifarStem: true, inChannels: 1 },
    ],
  ] as [string, string, ResNetSpec][])('%s', async (_title, name, spec) => {
    const c = byName(name);
    const store = new ParamStore('golden');
    initResNet(store.scope(''), spec, createRng(0));
    const x = nhwc(c.input_shape);
    await expectNoLeak(() =>
      runCase(c, store, x, (s, xx, o) => resnetForward(s.scope(''), spec, xx as Tensor4D, o)),
    );
    x.dispose();
    store.dispose();
  });

  for (const [name, batchNorm] of [
    ['carp_head_bn', true],
    ['carp_head_nobn', false],
  ] as const) {
    it(`CARP head (${name})`, async () => {
      const c = byName(name);
      const spec: HeadSpec = {
        inDim: 32,
        hiddenDim: 48,
        bottleneckDim: 16,
        numPrototypes: 40,
        batchNorm,
        numLayers: 3,
      };
      const store = new ParamStore('golden');
      initCarpHead(store.scope(''), spec, createRng(0));
      const x = tf.tensor2d(sinArray(6 * 32, 0.3), [6, 32]);
      await expectNoLeak(() =>
        runCase(c, store, x, (s, xx, o) => carpHeadForward(s.scope(''), spec, xx as Tensor2D, o)),
      );
      x.dispose();
      store.dispose();
    });
  }
});
