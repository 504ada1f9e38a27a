/**
 * Named presets (architecture §5): data, each a partial override of `PAPER_DEFAULTS`,
 * validated by the same schema as any user config (`resolveConfig`).
 *
 * - `paper-imagenet-r50`: the §5.5 values, unchanged.
 * - `cifar10-r18`: ResNet-18 with the CIFAR stem on 32-px images [JUDGEMENT throughout:
 *   the paper pre-trains on ImageNet only]; blur off on 32-px crops, smaller K/P for a
 *   single-GPU batch.
 * - `fmnist-small`: the quickstart default; minutes on the wasm CPU backend for 28×28
 *   single-channel Fashion-MNIST with a k-NN result well above chance.
 * - `fmnist-10min`: the best teacher k-NN that ten minutes of training on two cores reach
 *   (the fmnist-small network on all 60 000 images; measured below).
 * - `fmnist-tiny`: CI smoke runs (seconds per notebook).
 */
import type { CarpConfig, DeepPartial } from './schema';

/**
 * 28–32 px images (as src/data's `multiCropPreset('fmnist' | 'cifar')`): the paper's area
 * scales and jitter, half-size local crops (the paper's 96/224 ≈ 0.43), blur off — σ up to
 * 2 px erases a 28-px crop (solo-learn's CIFAR recipes likewise use blur p = 0).
 */
const NO_BLUR: [number, number, number] = [0, 0, 0];

/** Fashion-MNIST: one grey channel, its training-set mean/std (as src/data/fashionMnist.ts). */
const FMNIST_CROPS: DeepPartial<CarpConfig['crops']> = {
  globalSize: 28,
  localSize: 14,
  blurProb: NO_BLUR,
  mean: [0.286],
  std: [0.353],
};

/**
 * The fmnist-small network and short-run recipe, shared by `fmnist-small` and `fmnist-10min`.
 * ImageNet stem: 28 px → 7 px before layer1, ≈ 6× cheaper than the CIFAR stem. Short runs
 * want a larger learning rate and a faster-moving teacher than the paper's 100+ epochs
 * [JUDGEMENT]: measured on 5 000 images × 5 epochs, teacher k-NN (k 20, 10 000 train /
 * 2 000 test images) 0.28 at init → 0.63 with lrRef 0.45, 0.69 with 2, 0.74 with 4.
 */
const FMNIST_SMALL_RECIPE: DeepPartial<CarpConfig> = {
  model: {
    arch: 'resnet18',
    width: 16,
    inChannels: 1,
    numPrototypes: 512,
    partitionSize: 32,
    hiddenDim: 256,
    bottleneckDim: 64,
  },
  crops: { ...FMNIST_CROPS, numLocal: 2 },
  optim: { lrRef: 4 },
  teacher: { momentumStart: 0.96 },
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
      blurProb: NO_BLUR,
      mean: [0.4914, 0.4822, 0.4465],
      std: [0.247, 0.2435, 0.2616],
    },
    train: { batchSize: 256, accumulation: 1, epochs: 200, logEvery: 50 },
    data: { dataset: 'cifar10' },
  },
  'fmnist-small': {
    // Sized for under a minute of training: 5 epochs of a 5 000-image subset. Measured
    // (2026-12-04): 16 s at 1 641 images/s; teacher k-NN (k 20, standard protocol) 73.7 %.
    ...FMNIST_SMALL_RECIPE,
    train: { batchSize: 128, accumulation: 1, epochs: 5, checkpointEvery: 1, logEvery: 10 },
    data: { dataset: 'fashion-mnist', limit: 5000 },
  },
  'fmnist-10min': {
    // Ten minutes on two cores: the fmnist-small network and recipe on all 60 000 training
    // images, with room for a slower machine. Measured (2-core AMD EPYC, wasm + native
    // kernels, 2 threads, quiet machine, 2026-12-04): `carp pretrain` 5.5 min at 1 641
    // images/s; teacher weighted k-NN (k 20, standard protocol: 60 000-image bank, 10 000
    // test queries) 81.6 % (raw pixels 84.6 %, random init 26.9 %). 14 epochs (8.5 min)
    // gave 81.4 %: more epochs of this network do not pay here, so the preset stays at 9.
    // docs/first-result.md has the accuracy-vs-minutes curve up to an hour.
    ...FMNIST_SMALL_RECIPE,
    train: { batchSize: 128, accumulation: 1, epochs: 9, checkpointEvery: 1, logEvery: 20 },
    data: { dataset: 'fashion-mnist', limit: null },
  },
  'fmnist-tiny': {
    model: {
      arch: 'resnet18',
      width: 8,
      inChannels: 1,
      numPrototypes: 64,
      partitionSize: 16,
      hiddenDim: 64,
      bottleneckDim: 32,
    },
    crops: { ...FMNIST_CROPS, numLocal: 2 },
    // Accumulation 2 so CI exercises the accumulation path. ≈ 0.3 s per micro-step on wasm.
    train: { batchSize: 32, accumulation: 2, epochs: 2, checkpointEvery: 1, logEvery: 1 },
    data: { dataset: 'fashion-mnist', limit: 256 },
  },
};

export type PresetName = keyof typeof PRESETS;

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
