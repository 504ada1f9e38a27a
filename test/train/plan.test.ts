/**
 * The training plan computed before a run writes anything, worked by hand for 30 images
 * in micro-batches of 8 with accumulation 2, and the two refusals it exists for.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve';
import type { ImageSource } from '../../src/data/source';
import { formatPlan, trainingPlan } from '../../src/train/plan';

/** The fields of an image source the plan reads (no pixels are read). */
const source = (o: Partial<ImageSource> = {}) =>
  ({
    name: 'fashion-mnist',
    split: 'train',
    count: 30,
    height: 28,
    width: 28,
    channels: 1,
    classes: ['a', 'b', 'c'],
    subset: { count: 30, of: 60000, seed: 4, rule: 'class-stratified' },
    ...o,
  }) as ImageSource;

const config = (sets: string[] = []) =>
  resolveConfig('fmnist-tiny', [
    'train.batchSize=8',
    'train.accumulation=2',
    'train.epochs=3',
    'optim.lrRef=0.32',
    'crops.globalCount=2',
    'crops.numLocal=2',
    ...sets,
  ]);

/** A 3-channel network (with per-channel normalisation to match). */
const RGB = ['model.inChannels=3', 'crops.mean=[0.3,0.3,0.3]', 'crops.std=[0.4,0.4,0.4]'];

describe('trainingPlan', () => {
  it('counts steps, batch and peak lr: 30 images → 3 micro-steps, 2 optimiser steps an epoch', () => {
    const p = trainingPlan(config(), source());
    expect(p).toEqual({
      preset: 'fmnist-tiny',
      data: {
        dataset: 'fashion-mnist',
        split: 'train',
        count: 30,
        shape: [28, 28, 1],
        classes: 3,
        subset: { count: 30, of: 60000, seed: 4, rule: 'class-stratified' },
      },
      model: { arch: 'resnet18', inChannels: 1, prototypes: 64, blocks: 4 },
      crops: { views: 4, globalSize: 28, localSize: 14, viewChannels: 1 },
      steps: {
        epochs: 3,
        microStepsPerEpoch: 3, // floor(30 / 8)
        optimizerStepsPerEpoch: 2, // ceil(3 / 2)
        totalMicroSteps: 9,
        microBatch: 8,
        accumulation: 2,
        effectiveBatch: 16,
      },
      peakLr: 0.02, // 0.32 · 16 / 256
    });
    expect(formatPlan(p)).toBe(
      'preset fmnist-tiny\n' +
        'data fashion-mnist/train: 30 images 28×28×1, 3 classes (a seeded class-stratified subset of 60000, seed 4)\n' +
        'model resnet18, input channels 1, K 64 prototypes in 4 blocks\n' +
        'views 4 per image (globals 28 px, locals 14 px, channels 1)\n' +
        'steps 3 epochs × 3 micro-steps = 9 (micro-batch 8 × accumulation 2 = 16 images per optimiser step, 2 per epoch)\n' +
        'peak learning rate 0.02\n',
    );
  });

  it('makes grey images 3-channel views when crops.channels is rgb', () => {
    const p = trainingPlan(config(['crops.channels=rgb', ...RGB]), source({ subset: undefined }));
    expect(p.crops.viewChannels).toBe(3);
    expect(p.data.subset).toBeNull();
    expect(formatPlan(p).split('\n')[1]).toBe(
      'data fashion-mnist/train: 30 images 28×28×1, 3 classes',
    );
  });

  it('refuses views the network cannot take and fewer images than a micro-batch', () => {
    expect(() => trainingPlan(config(RGB), source())).toThrow(
      "fashion-mnist/train has 1-channel images but 'model.inChannels' is 3 (set 'crops.channels' to rgb)",
    );
    expect(() => trainingPlan(config(['crops.channels=rgb']), source())).toThrow(
      "fashion-mnist/train has 1-channel images (3-channel views) but 'model.inChannels' is 1",
    );
    expect(() => trainingPlan(config(), source({ count: 7 }))).toThrow(
      "fashion-mnist/train has 7 images, fewer than one micro-batch ('train.batchSize' 8)",
    );
  });
});
