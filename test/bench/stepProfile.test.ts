/**
 * The stage profile of one micro-step: every stage timed, the shares relative to the
 * step's total, and no tensor left behind.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { OurCarpStep } from '../../src/bench/ourCarpStep';
import { profileTrainStep } from '../../src/bench/stepProfile';
import { initTestBackend } from '../helpers/tensors';
import { TINY_CASE } from './tinyCase';

beforeAll(async () => {
  await initTestBackend('wasm');
});

describe('profileTrainStep', () => {
  it('times each stage of one micro-step on a tiny network, leak-free', async () => {
    const before = tf.memory().numTensors;
    const ours = new OurCarpStep({ ...TINY_CASE, accumulation: 1 });
    try {
      const p = await profileTrainStep(ours);
      expect(p.scenario).toBe('tiny');
      expect(p.batch).toBe(4);
      expect(p.backend).toBe('wasm');
      expect(Object.keys(p.seconds)).toEqual([
        'augmentation',
        'teacherForward',
        'studentForward',
        'studentBackward',
        'loss',
        'ema',
        'lars',
        'bnStats',
      ]);
      for (const [k, v] of Object.entries(p.seconds)) {
        expect(p.shares[k], k).toBeCloseTo(v / p.total, 12);
      }
      // The total is the step's own stages plus its forward+loss+backward (which took time);
      // the forward and the loss timed apart are not counted again.
      const s = p.seconds;
      const inStep = s.augmentation + s.teacherForward + s.ema + s.lars + s.bnStats;
      expect(p.total).toBeGreaterThan(inStep);
    } finally {
      ours.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
