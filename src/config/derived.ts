/**
 * Values computed from a config — never written back into it (architecture §5).
 * Each takes the narrowest piece of the config it needs.
 */
import { carpNetworkSpec, type CarpNetworkSpec } from '../models/carpNetwork';
import { resnetSpec } from '../models/resnet';
import type { CropConfig, ModelConfig, OptimConfig, TrainConfig } from './schema';

/** V = global + local views per image (§1). */
export function numCrops(crops: Pick<CropConfig, 'globalCount' | 'numLocal'>): number {
  return crops.globalCount + crops.numLocal;
}

/** N_p = floor(K / P) blocks per partition (§3). */
export function numBlocks(model: Pick<ModelConfig, 'numPrototypes' | 'partitionSize'>): number {
  return Math.floor(model.numPrototypes / model.partitionSize);
}

/** The augmentation settings (src/data `MultiCropConfig`): the crops section minus `globalCount`. */
export function multiCropSettings(crops: CropConfig): Omit<CropConfig, 'globalCount'> {
  const { globalCount: _g, ...rest } = crops;
  return structuredClone(rest);
}

/** Images per optimiser step, A·B. */
export function effectiveBatch(train: Pick<TrainConfig, 'batchSize' | 'accumulation'>): number {
  return train.batchSize * train.accumulation;
}

/** Peak learning rate by the linear scaling rule: lrRef·A·B/256 (§5.3). */
export function scaledLr(
  optim: Pick<OptimConfig, 'lrRef'>,
  train: Pick<TrainConfig, 'batchSize' | 'accumulation'>,
): number {
  return (optim.lrRef * effectiveBatch(train)) / 256;
}

/** Micro-steps per epoch I: full micro-batches only (the loader drops the last partial one, §6). */
export function itersPerEpoch(numImages: number, train: Pick<TrainConfig, 'batchSize'>): number {
  return Math.floor(numImages / train.batchSize);
}

/** Optimiser steps per epoch: ceil(I / A) — a trailing partial group still steps (§5.4). */
export function optimizerStepsPerEpoch(
  numImages: number,
  train: Pick<TrainConfig, 'batchSize' | 'accumulation'>,
): number {
  return Math.ceil(itersPerEpoch(numImages, train) / train.accumulation);
}

/** The network a model config describes (backbone + head, §2). */
export function networkSpec(model: ModelConfig): CarpNetworkSpec {
  return carpNetworkSpec(
    resnetSpec(model.arch, {
      width: model.width,
      cifarStem: model.cifarStem,
      inChannels: model.inChannels,
    }),
    {
      hiddenDim: model.hiddenDim,
      bottleneckDim: model.bottleneckDim,
      numPrototypes: model.numPrototypes,
      batchNorm: model.headBatchNorm,
      numLayers: model.headLayers,
    },
  );
}
