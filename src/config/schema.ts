/**
 * The one typed configuration of a CARP run, with the paper's defaults in ONE place
 * (§5.5 table; architecture §5, §6.5).
 *
 * Source tags (§0): [CODE] official repository behaviour, [README]/[PAPER-Q]/[BRIEF]
 * paper-side values (unverified where marked), [JUDGEMENT] our decision. Derived values
 * (crop count, scaled learning rate, block count …) are functions in `derived.ts` and are
 * never stored here. Validation rules live in `validate.ts` (`KEYS`: one line per key, with
 * the meaning of each field below, as `carp config --keys` prints it); presets in
 * `presets.ts`.
 */
import { PAPER_MULTICROP, type MultiCropConfig } from '../data/multiCropConfig';
import type { ResNetArch } from '../models/resnet';

export interface ModelConfig {
  /** Backbone. [CODE] ResNet-50 (the only one evaluated, §2.1). */
  arch: ResNetArch;
  /** Base width (stem channels); 64 is torchvision's. Smaller for CPU presets. [CODE] 64 */
  width: number;
  /** 3×3 stride-1 stem without max-pool for small images. [CODE] false (ImageNet stem) */
  cifarStem: boolean;
  /** Image channels (3 RGB, 1 Fashion-MNIST). [CODE] 3 */
  inChannels: number;
  /** K, prototypes (head output width). [CODE]+[BRIEF] 65 536 */
  numPrototypes: number;
  /** P, prototypes per random block. [CODE]+[BRIEF] 512 (N_p = 128) */
  partitionSize: number;
  /** Hidden width of the projection MLP. [CODE] 2048 */
  hiddenDim: number;
  /** Embedding width d before the prototypes. [CODE] 256 */
  bottleneckDim: number;
  /** BatchNorm in the head's hidden layers. [CODE] on */
  headBatchNorm: boolean;
  /** Linear layers in the projection MLP. [CODE] 3 */
  headLayers: number;
}

/**
 * Multi-crop augmentation (§6). Apart from `globalCount`, the fields are exactly
 * `MultiCropConfig` of src/data/multiCropConfig.ts, so the section can be handed to the
 * augmentation as is (a test pins the equality with its presets).
 */
export interface CropConfig extends MultiCropConfig {
  /** Global views per image; the teacher sees exactly these two. [CODE] 2 (fixed) */
  globalCount: number;
}

export interface OptimConfig {
  /**
   * Peak learning rate per 256 images; the peak is lrRef·A·B/256 (`scaledLr`).
   * [CODE] 0.45 (→ 7.2 at 4096). [BRIEF, unverified] 0.6 for ≤ 200 epochs, 0.3 for 400 (§11.1).
   */
  lrRef: number;
  /** Final learning rate of the cosine, NOT scaled. [CODE] 0.0048 ([BRIEF] 0.006 / 0.003) */
  minLr: number;
  /** Weight decay, constant (regularised group only, §5.1). [CODE]+[BRIEF] 1e-6 */
  weightDecay: number;
  /** LARS heavy-ball momentum μ. [CODE] 0.9 */
  momentum: number;
  /** LARS trust coefficient η. [CODE] 0.001 */
  eta: number;
  /** Linear warm-up epochs of the learning rate. [CODE] 0 */
  warmupEpochs: number;
}

export interface TeacherConfig {
  /** EMA momentum at the first micro-step (cosine to `momentumEnd`). [CODE] 0.99 */
  momentumStart: number;
  /** EMA momentum at the end of training. [CODE] 1 */
  momentumEnd: number;
}

export interface TrainConfig {
  /**
   * Images per micro-batch B (what BN and the loss see at once). [JUDGEMENT, §11.18] 128 = the
   * code's 32 per GPU × the paper's 4 GPUs ([CODE] + [PAPER-Q]; §11.2).
   */
  batchSize: number;
  /** Gradient-accumulation micro-steps A per optimiser step. [JUDGEMENT] 32 → 4096 ([BRIEF]) */
  accumulation: number;
  /** Training epochs. [CODE] 100 ([README] 100/200/400 released) */
  epochs: number;
  /** Seed of every random draw (init, data order, partitions, augmentation). [CODE] 0 */
  seed: number;
  /** Keep a numbered checkpoint every N epochs (latest is always written). [CODE] 25 */
  checkpointEvery: number;
  /** Log metrics every N micro-steps. [CODE] 100 */
  logEvery: number;
  /**
   * Also checkpoint mid-epoch every this many minutes (at the next micro-step; the last
   * 3 such step checkpoints are kept), so a killed run loses at most that much work;
   * 0 = only at epoch ends. Operational: may change between a run and its resume.
   * [JUDGEMENT] 5
   */
  checkpointMinutes: number;
}

export interface LossConfig {
  /**
   * λ, the weight of the regulariser: L = L_cons + λ·L_reg (§4.3). The paper and the code
   * use 1. 0 switches the KL-to-uniform term off, which lets a run show the collapse the
   * term exists to prevent (every image on the same prototypes, §11.35); the logged terms
   * stay unweighted. [CODE] 1
   */
  regWeight: number;
}

export interface DataConfig {
  /** Dataset name as the data readers know it. [CODE] ImageNet-1k train */
  dataset: string;
  /**
   * Use a seeded (seed 0), class-stratified subset of N training images instead of all
   * (null: all); prepared folders are stored class by class, so the first N would be a few
   * classes. [JUDGEMENT] null
   */
  limit: number | null;
}

export interface CarpConfig {
  /** Name of the preset this configuration started from (`custom` when none). */
  preset: string;
  model: ModelConfig;
  crops: CropConfig;
  optim: OptimConfig;
  teacher: TeacherConfig;
  loss: LossConfig;
  train: TrainConfig;
  data: DataConfig;
}

/** The paper's configuration (§5.5); every preset is a partial override of it. */
export const PAPER_DEFAULTS: CarpConfig = {
  preset: 'paper-imagenet-r50',
  model: {
    arch: 'resnet50',
    width: 64,
    cifarStem: false,
    inChannels: 3,
    numPrototypes: 65536,
    partitionSize: 512,
    hiddenDim: 2048,
    bottleneckDim: 256,
    headBatchNorm: true,
    headLayers: 3,
  },
  // The §6 values live with the augmentation (one place): src/data/multiCropConfig.ts.
  crops: { globalCount: 2, ...structuredClone(PAPER_MULTICROP) } as CropConfig,

  optim: {
    lrRef: 0.45,
    minLr: 0.0048,
    weightDecay: 1e-6,
    momentum: 0.9,
    eta: 0.001,
    warmupEpochs: 0,
  },
  teacher: { momentumStart: 0.99, momentumEnd: 1 },
  loss: { regWeight: 1 },
  train: {
    batchSize: 128,
    accumulation: 32,
    epochs: 100,
    seed: 0,
    checkpointEvery: 25,
    logEvery: 100,
    checkpointMinutes: 5,
  },
  data: { dataset: 'imagenet', limit: null },
};

/** Recursive partial, for presets and user overrides. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};
