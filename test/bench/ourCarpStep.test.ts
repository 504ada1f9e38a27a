/**
 * Our side of a train-step scenario on a tiny fmnist network: hyper-parameters by the
 * linear scaling rule, the views made once, the peer's set-up, a finite optimiser step,
 * and no tensor left after dispose.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { OurCarpStep } from '../../src/bench/ourCarpStep';
import { initTestBackend } from '../helpers/tensors';
import { TINY_CASE } from './tinyCase';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('OurCarpStep', () => {
  it('builds state, views and hyper-parameters for the case, and steps', async () => {
    const before = tf.memory().numTensors;
    const ours = new OurCarpStep(TINY_CASE);
    try {
      expect(ours.images).toBe(8);
      expect(ours.hp.learningRate).toBeCloseTo(0.01, 12); // 0.32 · 4 · 2 / 256
      expect(ours.hp.accumulation).toBe(2);
      expect(ours.hp.teacherMomentum).toBe(ours.cfg.teacher.momentumStart);
      expect(ours.views.map((v) => v.shape)).toEqual([
        [4, 28, 28, 1],
        [4, 28, 28, 1],
        [4, 14, 14, 1],
        [4, 14, 14, 1],
      ]);
      expect(ours.peerSetup(16)).toMatchObject({
        width: 4,
        cifarStem: 0,
        inChannels: 1,
        hiddenDim: 16,
        bottleneckDim: 8,
        numPrototypes: 32,
        partitionSize: 8,
        batch: 4,
        globalSize: 28,
        localSize: 14,
        numLocal: 2,
        featureBatch: 16,
        featureSize: 28,
        seed: 0,
        learningRate: ours.hp.learningRate,
      });
      expect(ours.peerUnsupported()).toBeNull();
      const { seconds, loss } = await ours.step();
      expect(seconds).toBeGreaterThan(0);
      expect(Number.isFinite(loss)).toBe(true);
    } finally {
      ours.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says why the peer cannot build a network other than ResNet-18 with the BN head', () => {
    const ours = new OurCarpStep({
      ...TINY_CASE,
      overrides: [...TINY_CASE.overrides, 'model.headBatchNorm=false'],
    });
    try {
      expect(ours.peerUnsupported()).toBe(
        'peer skipped: carp_step.py builds ResNet-18 with the 3-layer BN head only',
      );
    } finally {
      ours.dispose();
    }
  });
});
