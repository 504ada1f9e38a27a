/**
 * Our side of a train-step scenario: a `CarpTrainState` for a preset
 * with views made once by `multiCropViews` before timing, and a timed optimiser step of A
 * accumulated `trainStep` micro-steps. Shared by the train-step, feature and memory scenarios.
 */
import { tf } from '../backend/tf';
import { CarpTrainState, trainStep, type StepHyperParameters } from '../carp/trainStep';
import { multiCropSettings, networkSpec, scaledLr } from '../config/derived';
import { resolveConfig } from '../config/resolve';
import type { CarpConfig } from '../config/schema';
import { multiCropViews } from '../data/multiCropViews';
import type { CarpNetworkSpec } from '../models/carpNetwork';
import { createRng } from '../random';

/** One train-step scenario: a preset, overrides, micro-batch B and accumulation A. */
export interface TrainStepCase {
  id: string;
  preset: string;
  overrides: string[];
  batch: number;
  accumulation: number;
  note?: string;
}

/** Our side of a scenario: state, pre-made views, and a timed optimiser step. */
export class OurCarpStep {
  readonly cfg: CarpConfig;
  readonly spec: CarpNetworkSpec;
  readonly state: CarpTrainState;
  readonly views: tf.Tensor4D[];
  readonly hp: Omit<StepHyperParameters, 'step' | 'optimizerStep'>;
  private t = 0;

  constructor(
    readonly c: TrainStepCase,
    seed = 0,
  ) {
    this.cfg = resolveConfig(c.preset, [...c.overrides, `train.batchSize=${c.batch}`]);
    this.spec = networkSpec(this.cfg.model);
    const rng = createRng(seed);
    this.state = CarpTrainState.create({
      spec: this.spec,
      partitionSize: this.cfg.model.partitionSize,
      rng,
      momentum: this.cfg.optim.momentum,
      eta: this.cfg.optim.eta,
    });
    const s = this.cfg.crops.globalSize;
    const ch = this.cfg.model.inChannels;
    const data = new Uint8Array(c.batch * s * s * ch);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
    this.views = multiCropViews(
      { data, shape: [c.batch, s, s, ch] },
      multiCropSettings(this.cfg.crops),
      rng,
    );
    this.hp = {
      learningRate: scaledLr(this.cfg.optim, { batchSize: c.batch, accumulation: c.accumulation }),
      weightDecay: this.cfg.optim.weightDecay,
      teacherMomentum: this.cfg.teacher.momentumStart,
      accumulation: c.accumulation,
    };
  }

  /** The peer's `setup` command for the same network, crops and hyper-parameters. */
  peerSetup(featureBatch: number): Record<string, number> {
    const { model, crops } = this.cfg;
    return {
      width: model.width,
      cifarStem: model.cifarStem ? 1 : 0,
      inChannels: model.inChannels,
      hiddenDim: model.hiddenDim,
      bottleneckDim: model.bottleneckDim,
      numPrototypes: model.numPrototypes,
      partitionSize: model.partitionSize,
      batch: this.c.batch,
      globalSize: crops.globalSize,
      localSize: crops.localSize,
      numLocal: crops.numLocal,
      featureBatch,
      featureSize: crops.globalSize,
      seed: 0,
      ...this.hp,
    };
  }

  /** Why the peer cannot build this network (it implements ResNet-18 + the paper's head), or null. */
  peerUnsupported(): string | null {
    const m = this.cfg.model;
    return m.arch === 'resnet18' && m.headLayers === 3 && m.headBatchNorm
      ? null
      : 'peer skipped: carp_step.py builds ResNet-18 with the 3-layer BN head only';
  }

  /** One `trainStep` on `views` (default: the pre-made ones); returns the loss L. */
  async microStep(
    optimizerStep: boolean,
    views: readonly tf.Tensor4D[] = this.views,
  ): Promise<number> {
    const r = await trainStep(this.state, views, { ...this.hp, step: this.t++, optimizerStep });
    return r.loss;
  }

  /** Runs one optimiser step (A micro-steps on the pre-made views); returns its seconds and loss. */
  async step(): Promise<{ seconds: number; loss: number }> {
    const t0 = performance.now();
    let loss = NaN;
    for (let i = 0; i < this.c.accumulation; i++) {
      loss = await this.microStep(i === this.c.accumulation - 1);
    }
    return { seconds: (performance.now() - t0) / 1000, loss };
  }

  /** Images per optimiser step (distinct images, not views). */
  get images(): number {
    return this.c.batch * this.c.accumulation;
  }

  dispose(): void {
    tf.dispose(this.views);
    this.state.dispose();
  }
}
