/**
 * Named presets (DESIGN.md §5): data, each a partial override of `PAPER_DEFAULTS`,
 * validated by the same schema as any user config (`resolveConfig`).
 *
 * - `paper-imagenet-r50`: the spec's §5.5 values, unchanged.
 * - `cifar10-r18`: ResNet-18 with the CIFAR stem on 32-px images [JUDGEMENT throughout:
 *   the paper pre-trains on ImageNet only]; blur off on 32-px crops (as solo-learn's CIFAR
 *   recipes), smaller K/P for a single-GPU batch.
 * - `fmnist-small`: the quickstart default; minutes on the wasm CPU backend for 28×28
 *   single-channel Fashion-MNIST with a k-NN result well above chance.
 * - `fmnist-tiny`: CI smoke runs (seconds per notebook).
 */
import type { CarpConfig, DeepPartial } from './schema';

/** Shared by the Fashion-MNIST presets: 28×28 grey images, no blur/hue on 28 px. */
const FMNIST_CROPS: DeepPartial<CarpConfig['crops']> = {
  globalSize: 28,
  globalScale: [0.4, 1],
  localSize: 14,
  localScale: [0.1, 0.4],
  blurProbGlobalA: 0,
  blurProbGlobalB: 0,
  blurProbLocal: 0,
  grayscaleProb: 0,
  saturation: 0,
  hue: 0,
  // Fashion-MNIST training-set pixel mean/std [JUDGEMENT: computed over the 60 000 images].
  mean: [0.286],
  std: [0.353],
};

export const PRESETS: Record<string, DeepPartial<CarpConfig>> = {
  'paper-imagenet-r50': {},
  'cifar10-r18': {
    model: {
      arch: 'resnet18',
      cifarStem: true,
      numPrototypes: 4096,
      partitionSize: 128,
    },
    crops: {
      globalSize: 32,
      localSize: 16,
      blurProbGlobalA: 0,
      blurProbGlobalB: 0,
      blurProbLocal: 0,
      mean: [0.4914, 0.4822, 0.4465],
      std: [0.247, 0.2435, 0.2616],
    },
    train: { batchSize: 256, accumulation: 1, epochs: 200, logEvery: 50 },
    data: { dataset: 'cifar10' },
  },
  'fmnist-small': {
    model: {
      arch: 'resnet18',
      width: 16,
      cifarStem: true,
      inChannels: 1,
      numPrototypes: 1024,
      partitionSize: 64,
      hiddenDim: 512,
      bottleneckDim: 128,
    },
    crops: { ...FMNIST_CROPS, localCount: 4 },
    train: { batchSize: 128, accumulation: 1, epochs: 5, checkpointEvery: 1, logEvery: 10 },
    data: { dataset: 'fashion-mnist', limit: 10000 },
  },
  'fmnist-tiny': {
    model: {
      arch: 'resnet18',
      width: 8,
      cifarStem: true,
      inChannels: 1,
      numPrototypes: 64,
      partitionSize: 16,
      hiddenDim: 64,
      bottleneckDim: 32,
    },
    crops: { ...FMNIST_CROPS, localCount: 2 },
    // Accumulation 2 so CI exercises the accumulation path.
    train: { batchSize: 32, accumulation: 2, epochs: 2, checkpointEvery: 1, logEvery: 1 },
    data: { dataset: 'fashion-mnist', limit: 256 },
  },
};

export type PresetName = keyof typeof PRESETS;

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
