/** A train-step case small enough for tests: a 4-wide ResNet-18, K 32, batch 4. */
import type { TrainStepCase } from '../../src/bench/ourCarpStep';

export const TINY_CASE: TrainStepCase = {
  id: 'tiny',
  preset: 'fmnist-tiny',
  overrides: [
    'model.width=4',
    'model.numPrototypes=32',
    'model.partitionSize=8',
    'model.hiddenDim=16',
    'model.bottleneckDim=8',
    'crops.numLocal=2',
    'optim.lrRef=0.32',
  ],
  batch: 4,
  accumulation: 2,
};
