/**
 * Parity with PyTorch (§8, §9.0): the teacher of a CARP training dictionary written
 * by `torch.save`, loaded by our reader and mapped into src/models, gives the same pooled
 * features and prototype logits as PyTorch in eval mode (max abs diff ≤ 1e-4).
 *
 * Always: the committed tiny fixtures (torchvision ResNet-18 at width 4 with the CIFAR stem,
 * ResNet-50 at width 2 with the ImageNet stem, tiny heads; data-scripts/make-parity-fixture.py).
 * When Debian's python3-torch is present, the same script also builds a full-width
 * torchvision ResNet-50 + head on the fly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { carpHeadForward } from '../../src/models/carpHead';
import { resnetForward } from '../../src/models/resnet';
import { loadCarpNetwork } from '../../src/interop/loadNetwork';
import { PROJECT_ROOT } from '../helpers/golden';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures', 'interop');
const PYTHON = '/usr/bin/python3';
const TOL = 1e-4;

interface Expected {
  spec: { arch: string; width: number; cifarStem: boolean; numPrototypes: number };
  inputShapeNCHW: [number, number, number, number];
  input: number[];
  features: number[];
  logits: number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs our eval-mode teacher on the fixture input; returns the two max abs diffs. */
async function compare(pth: string, expected: Expected) {
  const net = loadCarpNetwork(pth);
  try {
    expect(net.meta.entry).toBe('teacher');
    expect(net.missing).toEqual([]);
    expect(net.unexpected).toEqual([]);
    expect(net.spec.backbone.width).toBe(expected.spec.width);
    expect(net.spec.backbone.cifarStem).toBe(expected.spec.cifarStem);
    expect(net.spec.head?.numPrototypes).toBe(expected.spec.numPrototypes);
    return await expectNoLeak(async () => {
      const [n, c, h, w] = expected.inputShapeNCHW;
      const x = tf.tidy(() =>
        tf.transpose(tf.tensor4d(expected.input, [n, c, h, w]), [0, 2, 3, 1]),
      ) as Tensor4D;
      const opts = { training: false };
      const feats = resnetForward(net.params.scope('backbone.'), net.spec.backbone, x, opts);
      const logits = carpHeadForward(net.params.scope('head.'), net.spec.head!, feats, opts);
      const out = {
        features: maxAbsDiff(await feats.data(), expected.features),
        logits: maxAbsDiff(await logits.data(), expected.logits),
      };
      tf.dispose([x, feats, logits]);
      return out;
    });
  } finally {
    net.params.dispose();
  }
}

function hasTorch(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import torch, torchvision'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('PyTorch parity (eval mode)', () => {
  let backend = '';
  beforeAll(async () => {
    backend = await initTestBackend(); // wasm here unless CARP_BACKEND says otherwise
  });

  it.each([
    ['tiny-carp', 'ResNet-18 width 4, CIFAR stem, training dictionary'],
    ['tiny-r50', 'ResNet-50 width 2, ImageNet stem, teacher only'],
  ])('committed fixture %s (%s)', async (name) => {
    const expected = JSON.parse(
      readFileSync(join(FIXTURES, `${name}.expected.json`), 'utf8'),
    ) as Expected;
    const d = await compare(join(FIXTURES, `${name}.pth`), expected);
    console.log(
      `parity ${name} (${backend}): features ${d.features.toExponential(2)}, logits ${d.logits.toExponential(2)}`,
    );
    expect(d.features).toBeLessThanOrEqual(TOL);
    expect(d.logits).toBeLessThanOrEqual(TOL);
  });

  describe.skipIf(!hasTorch())('generated now with python3-torch', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'carp-parity-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('full-width torchvision ResNet-50 (ImageNet stem) + head, weight_g ≠ 1', async () => {
      execFileSync(PYTHON, [
        join(PROJECT_ROOT, 'data-scripts', 'make-parity-fixture.py'),
        ...['--out', dir, '--name', 'r50', '--arch', 'resnet50', '--width', '64'],
        ...['--no-cifar-stem', '--size', '64', '--hidden', '64', '--bottleneck', '32'],
        ...['--prototypes', '100', '--random-gain', '--no-dtypes'],
      ]);
      const expected = JSON.parse(readFileSync(join(dir, 'r50.expected.json'), 'utf8')) as Expected;
      const d = await compare(join(dir, 'r50.pth'), expected);
      console.log(
        `parity resnet50 (${backend}): features ${d.features.toExponential(2)}, logits ${d.logits.toExponential(2)}`,
      );
      expect(d.features).toBeLessThanOrEqual(TOL);
      expect(d.logits).toBeLessThanOrEqual(TOL);
    });
  });
});
