/**
 * What a pretraining run will do, computed before anything is written: the data it will
 * see (after `data.limit`), the steps, the effective batch and learning rate. The checks
 * here are the ones a run would otherwise fail on minutes in (views with the wrong channel
 * count for the network, fewer images than one micro-batch), so `carp pretrain --dry-run`
 * and the trainer refuse them alike.
 */
import {
  effectiveBatch,
  itersPerEpoch,
  numBlocks,
  numCrops,
  optimizerStepsPerEpoch,
  scaledLr,
} from '../config/derived';
import type { CarpConfig } from '../config/schema';
import type { ImageSource, SubsetInfo } from '../data/source';

export interface TrainingPlan {
  preset: string;
  data: {
    dataset: string;
    split: string;
    /** Images per epoch (after `data.limit`). */
    count: number;
    /** [height, width, channels] as stored. */
    shape: [number, number, number];
    classes: number;
    /** How a limited subset was drawn; null for all images. */
    subset: SubsetInfo | null;
  };
  model: { arch: string; inChannels: number; prototypes: number; blocks: number };
  crops: { views: number; globalSize: number; localSize: number; viewChannels: number };
  steps: {
    epochs: number;
    microStepsPerEpoch: number;
    optimizerStepsPerEpoch: number;
    totalMicroSteps: number;
    microBatch: number;
    accumulation: number;
    effectiveBatch: number;
  };
  /** Peak learning rate lrRef·A·B/256 (§5.3). */
  peakLr: number;
}

/** The plan of training `config` on `source`; throws naming the key when it cannot run. */
export function trainingPlan(config: CarpConfig, source: ImageSource): TrainingPlan {
  const { model, crops, train } = config;
  const viewChannels = crops.channels === 'rgb' && source.channels === 1 ? 3 : source.channels;
  if (viewChannels !== model.inChannels) {
    throw new Error(
      `${source.name}/${source.split} has ${source.channels}-channel images` +
        (viewChannels !== source.channels ? ` (${viewChannels}-channel views)` : '') +
        ` but 'model.inChannels' is ${model.inChannels}` +
        (source.channels === 1 && model.inChannels === 3 ? " (set 'crops.channels' to rgb)" : ''),
    );
  }
  const iters = itersPerEpoch(source.count, train);
  if (iters === 0) {
    throw new Error(
      `${source.name}/${source.split} has ${source.count} images, fewer than one micro-batch ('train.batchSize' ${train.batchSize})`,
    );
  }
  return {
    preset: config.preset,
    data: {
      dataset: config.data.dataset,
      split: source.split,
      count: source.count,
      shape: [source.height, source.width, source.channels],
      classes: source.classes.length,
      subset: source.subset ?? null,
    },
    model: {
      arch: model.arch,
      inChannels: model.inChannels,
      prototypes: model.numPrototypes,
      blocks: numBlocks(model),
    },
    crops: {
      views: numCrops(crops),
      globalSize: crops.globalSize,
      localSize: crops.localSize,
      viewChannels,
    },
    steps: {
      epochs: train.epochs,
      microStepsPerEpoch: iters,
      optimizerStepsPerEpoch: optimizerStepsPerEpoch(source.count, train),
      totalMicroSteps: iters * train.epochs,
      microBatch: train.batchSize,
      accumulation: train.accumulation,
      effectiveBatch: effectiveBatch(train),
    },
    peakLr: scaledLr(config.optim, train),
  };
}

/** The plan as the lines `carp pretrain --dry-run` prints. */
export function formatPlan(p: TrainingPlan): string {
  const d = p.data;
  const subset = d.subset
    ? ` (a seeded ${d.subset.rule} subset of ${d.subset.of}, seed ${d.subset.seed})`
    : '';
  return (
    `preset ${p.preset}\n` +
    `data ${d.dataset}/${d.split}: ${d.count} images ${d.shape.join('×')}, ${d.classes} classes${subset}\n` +
    `model ${p.model.arch}, input channels ${p.model.inChannels}, K ${p.model.prototypes} prototypes in ${p.model.blocks} blocks\n` +
    `views ${p.crops.views} per image (globals ${p.crops.globalSize} px, locals ${p.crops.localSize} px, channels ${p.crops.viewChannels})\n` +
    `steps ${p.steps.epochs} epochs × ${p.steps.microStepsPerEpoch} micro-steps = ${p.steps.totalMicroSteps} ` +
    `(micro-batch ${p.steps.microBatch} × accumulation ${p.steps.accumulation} = ${p.steps.effectiveBatch} images per optimiser step, ` +
    `${p.steps.optimizerStepsPerEpoch} per epoch)\n` +
    `peak learning rate ${+p.peakLr.toPrecision(6)}\n`
  );
}
