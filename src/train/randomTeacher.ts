/**
 * A randomly initialised network in the shape of a trained teacher: the baseline every
 * frozen-feature protocol should beat (random convolutional features are far from
 * useless on small images, so "trained vs random init" tells what pretraining added).
 * Same architecture and initialisation as the trainer's (`createCarpParams`), another seed.
 */
import { networkSpec } from '../config/derived';
import type { CarpConfig } from '../config/schema';
import { createCarpParams } from '../models/carpNetwork';
import { createRng } from '../random';
import type { LoadedTeacher } from '../interop/loadTeacher';

/** An untrained `LoadedTeacher` for `config` (dispose `params` when done). */
export function randomInitTeacher(config: CarpConfig, seed = config.train.seed + 1): LoadedTeacher {
  const spec = networkSpec(config.model);
  return {
    params: createCarpParams(spec, createRng(seed), 'random-init', false),
    spec,
    config,
    checkpointId: `random-init-seed${seed}`,
    path: `random-init-seed${seed}`,
    missing: [],
    unexpected: [],
  };
}
