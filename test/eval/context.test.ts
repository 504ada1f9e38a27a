import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { resolveConfig } from '../../src/config/resolve';
import { normalizeImages } from '../../src/data/normalize';
import type { ImageSource } from '../../src/data/source';
import {
  checkEvalInput,
  defaultEvalDataset,
  evalTransform,
  preparedFilter,
  weightsDigest,
} from '../../src/eval/context';
import { randomInitTeacher } from '../../src/train/randomTeacher';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

const RGB = ['model.inChannels=3', 'crops.mean=0.485,0.456,0.406', 'crops.std=0.229,0.224,0.225'];
const tinyConfig = (...sets: string[]) =>
  resolveConfig('fmnist-tiny', [
    'model.width=4',
    'model.numPrototypes=16',
    'model.partitionSize=8',
    ...sets,
  ]);

/** A label-only source of the given geometry (its images are never read here). */
const geometry = (
  height: number,
  width: number,
  channels: number,
  preprocessing?: string,
): ImageSource => ({
  name: 'x',
  split: 'test',
  count: 1,
  height,
  width,
  channels,
  classes: ['a'],
  labelDim: 1,
  labels: Int32Array.from([0]),
  ...(preprocessing ? { preprocessing } : {}),
  readImages: () => Promise.reject(new Error('not read')),
  close: () => Promise.resolve(),
});

describe('the evaluation context (§9.0)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('evalTransform: images at the crop size are only normalised, and the name says so', async () => {
    const teacher = randomInitTeacher(tinyConfig());
    const t = evalTransform(teacher, { height: 28, width: 28 });
    expect(t.name).toBe('crop28-noresize-0.286-0.353-c1');
    const x = tf.fill([2, 28, 28, 1], 200) as Tensor4D;
    const y = await expectNoLeak(async () => {
      const out = t.fn(x);
      const data = await out.data();
      expect(out.shape).toEqual([2, 28, 28, 1]);
      out.dispose();
      return data;
    });
    // (200/255 − 0.286)/0.353 = 1.4117…, the Fashion-MNIST statistics of the preset.
    expectClose(y.subarray(0, 3), Array(3).fill((200 / 255 - 0.286) / 0.353), { atol: 1e-5 });
    tf.dispose(x);
    teacher.params.dispose();
  });

  it('evalTransform: larger images get T-eval to the crop size (shorter side 32, centre 28)', async () => {
    const teacher = randomInitTeacher(tinyConfig());
    const t = evalTransform(teacher, { height: 64, width: 48 });
    expect(t.name).toBe('teval32-28-bicubic-0.286-0.353-c1');
    const big = tf.fill([1, 64, 48, 1], 200) as Tensor4D;
    const out = t.fn(big);
    expect(out.shape).toEqual([1, 28, 28, 1]);
    const ref = normalizeImages(tf.fill([1, 28, 28, 1], 200) as Tensor4D, [0.286], [0.353]);
    expectClose(await out.data(), await ref.data(), { atol: 1e-4 }); // a constant stays constant
    tf.dispose([big, out, ref]);
    teacher.params.dispose();
  });

  it('PyTorch checkpoints (no config) use the paper T-eval 256 → 224 with ImageNet statistics', () => {
    const teacher = { ...randomInitTeacher(tinyConfig()), config: null };
    const t = evalTransform(teacher, { filter: 'bilinear' });
    expect(t.name).toBe('teval256-224-bilinear-0.485_0.456_0.406-0.229_0.224_0.225-c1');
    const out = t.fn(tf.zeros([1, 300, 260, 1]) as Tensor4D);
    expect(out.shape).toEqual([1, 224, 224, 1]);
    out.dispose();
    expect(defaultEvalDataset(teacher)).toBe('imagenet');
    teacher.params.dispose();
  });

  it("defaults to the run's own dataset", () => {
    const teacher = randomInitTeacher(tinyConfig('data.dataset=cifar10', ...RGB));
    expect(defaultEvalDataset(teacher)).toBe('cifar10');
    teacher.params.dispose();
  });

  it('refuses channel mismatches except grey → RGB, naming the split', () => {
    const grey = randomInitTeacher(tinyConfig());
    const ctx = { teacher: grey, runDir: '/tmp', dataset: 'fashion-mnist' };
    expect(() => checkEvalInput(ctx, geometry(28, 28, 3), 'bicubic')).toThrow(
      /fashion-mnist\/test: images have 3 channel\(s\), the network takes 1/,
    );
    expect(() => checkEvalInput(ctx, geometry(28, 28, 1), 'bicubic')).not.toThrow();
    grey.params.dispose();
    const rgb = { ...randomInitTeacher(tinyConfig(...RGB)), config: null };
    expect(() =>
      checkEvalInput({ teacher: rgb, runDir: '/tmp', dataset: 'x' }, geometry(32, 32, 1), null),
    ).not.toThrow();
    rgb.params.dispose();
  });

  it('a run on another dataset with another image size is a transfer: refused unless asked for', () => {
    const teacher = randomInitTeacher(tinyConfig());
    const ctx = { teacher, runDir: '/tmp', dataset: 'gtsrb' };
    expect(() => checkEvalInput(ctx, geometry(32, 32, 1), 'bicubic')).toThrow(
      /gtsrb\/test: images are 32×32, the run trained on fashion-mnist with 28-px crops.*--transfer/,
    );
    expect(() =>
      checkEvalInput({ ...ctx, transfer: true }, geometry(32, 32, 1), 'bicubic'),
    ).not.toThrow();
    // Same size: nothing to resize, so no transfer question.
    expect(() => checkEvalInput(ctx, geometry(28, 28, 1), 'bicubic')).not.toThrow();
    teacher.params.dispose();
  });

  it('refuses a prepared resize filter other than the protocol’s, naming the variant to prepare', () => {
    const teacher = { ...randomInitTeacher(tinyConfig(...RGB)), config: null };
    const ctx = { teacher, runDir: '/tmp', dataset: 'imagenet' };
    const src = geometry(256, 256, 3, 'shorter-256-centre-256-bicubic');
    expect(preparedFilter(src)).toBe('bicubic');
    expect(() => checkEvalInput(ctx, src, 'bicubic')).not.toThrow();
    expect(() => checkEvalInput(ctx, src, 'bilinear')).toThrow(
      /imagenet\/test was prepared with a bicubic resize, but this protocol resizes with bilinear.*'imagenet-bilinear'/,
    );
    teacher.params.dispose();
  });

  it('weightsDigest changes with any weight and is stable otherwise', async () => {
    const a = randomInitTeacher(tinyConfig(), 1);
    const b = randomInitTeacher(tinyConfig(), 1);
    const c = randomInitTeacher(tinyConfig(), 2);
    const da = await weightsDigest(a);
    expect(da).toMatch(/^[0-9a-f]{16}$/);
    expect(await weightsDigest(b)).toBe(da);
    expect(await weightsDigest(c)).not.toBe(da);
    for (const t of [a, b, c]) t.params.dispose();
  });
});
