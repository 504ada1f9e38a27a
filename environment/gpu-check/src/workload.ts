/**
 * The work the device check measures: one CARP training step and teacher feature
 * extraction for a CIFAR ResNet-18, built from the kit's own modules (src/models,
 * src/carp, src/optim), in the algorithm box's order (architecture §6.6):
 * forward → partition → loss → backward → LARS step → EMA → BN running stats.
 *
 * The step is assembled from the same parts as `src/carp/trainStep.ts` (same order, same
 * loss/LARS/EMA) rather than calling it, because trainStep reads its scalars with
 * `dataSync()`, which the webgpu backend cannot do in Node (no OffscreenCanvas); the
 * sizes are those of the `cifar10-r18` preset (2×32 px + 6×16 px, K 4096, P 128).
 */
import { tf } from '../../../src/backend/tf';
import type { Tensor4D } from '../../../src/backend/tf';
import { carpLoss } from '../../../src/carp/carpLoss';
import { partitionProbabilities, samplePartition } from '../../../src/carp/randomPartition';
import { BatchNormUpdates } from '../../../src/models/layers';
import {
  backboneFeatures,
  carpNetworkSpec,
  createCarpParams,
  multiCropForward,
  splitViews,
  type CarpNetworkSpec,
} from '../../../src/models/carpNetwork';
import type { ParamStore } from '../../../src/models/params';
import { resnetSpec } from '../../../src/models/resnet';
import { LARS } from '../../../src/optim/lars';
import { createRng, type Rng } from '../../../src/random';

/** Sizes of the measured workload (env-overridable in main.ts). */
export interface WorkloadSize {
  /** Images per step (each seen as `globalViews` 32-px crops, plus `localViews` small ones). */
  batch: number;
  globalViews: number;
  localViews: number;
  imageSize: number;
  localSize: number;
  /** ResNet base width (64 = ResNet-18 proper). */
  width: number;
  numPrototypes: number;
  partitionSize: number;
  hiddenDim: number;
  bottleneckDim: number;
}

/** ResNet-18 with CIFAR stem, the paper's head (architecture §5 `cifar10-r18`, HOOK above). */
export const CHECK_NETWORK: WorkloadSize = {
  batch: 64,
  globalViews: 2,
  localViews: 6,
  imageSize: 32,
  localSize: 16,
  width: 64,
  numPrototypes: 4096,
  partitionSize: 128,
  hiddenDim: 2048,
  bottleneckDim: 256,
};

export function networkSpec(s: WorkloadSize): CarpNetworkSpec {
  return carpNetworkSpec(resnetSpec('resnet18', { width: s.width, cifarStem: true }), {
    hiddenDim: s.hiddenDim,
    bottleneckDim: s.bottleneckDim,
    numPrototypes: s.numPrototypes,
    batchNorm: true,
    numLayers: 3,
  });
}

/** Seeded images in [-2, 2) (roughly normalised pixels), `[n, size, size, 3]`. */
export function seededImages(rng: Rng, n: number, size: number): Tensor4D {
  const data = new Float32Array(n * size * size * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-2, 2);
  return tf.tensor4d(data, [n, size, size, 3]);
}

/** The views of one step: globals then locals, all of `batch` images. */
export function seededViews(rng: Rng, s: WorkloadSize, batch = s.batch): Tensor4D[] {
  const views: Tensor4D[] = [];
  for (let v = 0; v < s.globalViews; v++) views.push(seededImages(rng, batch, s.imageSize));
  for (let v = 0; v < s.localViews; v++) views.push(seededImages(rng, batch, s.localSize));
  return views;
}

/**
 * CARP loss of the student on `views` against the teacher (teacher probabilities are
 * constants, §4). Returns the total loss; must run inside a gradient scope.
 */
function studentLoss(
  student: ParamStore,
  teacherProbs: tf.Tensor3D[],
  spec: CarpNetworkSpec,
  views: Tensor4D[],
  partition: Int32Array,
  partitionSize: number,
  bnUpdates?: BatchNormUpdates,
): tf.Scalar {
  const logits = multiCropForward(student, spec, views, { training: true, bnUpdates });
  const probs = splitViews(logits, views.length).map((l) =>
    partitionProbabilities(l, partition, partitionSize),
  );
  return carpLoss(probs, teacherProbs).total;
}

/** Teacher probabilities on the global views (training-mode BN, as the reference's teacher). */
function teacherProbabilities(
  teacher: ParamStore,
  spec: CarpNetworkSpec,
  views: Tensor4D[],
  globalViews: number,
  partition: Int32Array,
  partitionSize: number,
): tf.Tensor3D[] {
  return tf.tidy(() => {
    const logits = multiCropForward(teacher, spec, views.slice(0, globalViews), { training: true });
    return splitViews(logits, globalViews).map((l) =>
      partitionProbabilities(l, partition, partitionSize),
    );
  });
}

export interface Workload {
  readonly size: WorkloadSize;
  readonly spec: CarpNetworkSpec;
  /** Loss and gradients (by parameter name) of one step, without updating anything. */
  lossAndGrads(views: Tensor4D[]): { loss: tf.Scalar; grads: Map<string, tf.Tensor> };
  /** One full training step; resolves to the loss (read back, so the step has finished). */
  trainStep(views: Tensor4D[], lr: number, ema: number): Promise<number>;
  /** Teacher backbone features `[N, D]` (eval-mode BN), read back. */
  features(x: Tensor4D): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Creates student, teacher (exact copy) and LARS. `exerciseAllPaths` replaces the
 * zero-init-residual γ = 0 of every block's last BN by 1, so that every convolution gets
 * a non-zero gradient (needed for a meaningful backend comparison; irrelevant for speed).
 */
export function createWorkload(
  size: WorkloadSize,
  seed: number,
  exerciseAllPaths = false,
): Workload {
  const spec = networkSpec(size);
  const rng = createRng(seed);
  const student = createCarpParams(spec, rng, 'student');
  if (exerciseAllPaths) {
    for (const n of student.names()) {
      if (n.endsWith('.bn2.weight')) student.get(n).assign(tf.onesLike(student.get(n)));
    }
  }
  const teacher = student.clone('teacher', false);
  const optimizer = new LARS({ learningRate: 0.3, weightDecay: 1e-6 });
  const partitionRng = createRng(seed + 1);
  const trainable = student.names('trainable');

  const step = (views: Tensor4D[], bn?: BatchNormUpdates) => {
    const partition = samplePartition(size.numPrototypes, size.partitionSize, partitionRng);
    const q = teacherProbabilities(
      teacher,
      spec,
      views,
      size.globalViews,
      partition,
      size.partitionSize,
    );
    try {
      return tf.variableGrads(
        () => studentLoss(student, q, spec, views, partition, size.partitionSize, bn),
        student.trainableVariables(),
      );
    } finally {
      tf.dispose(q);
    }
  };

  return {
    size,
    spec,
    lossAndGrads(views) {
      const { value, grads } = step(views);
      const byName = new Map<string, tf.Tensor>();
      for (const n of trainable) byName.set(n, grads[student.varName(n)]);
      return { loss: value, grads: byName };
    },
    async trainStep(views, lr, ema) {
      const bn = new BatchNormUpdates();
      const { value, grads } = step(views, bn);
      optimizer.setLearningRate(lr);
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      bn.apply();
      tf.tidy(() => {
        for (const n of student.parameterNames()) {
          const t = teacher.get(n);
          t.assign(tf.add(tf.mul(t, ema), tf.mul(student.get(n), 1 - ema)));
        }
      });
      const loss = (await value.data())[0];
      value.dispose();
      return loss;
    },
    async features(x) {
      const f = tf.tidy(() => backboneFeatures(teacher, spec, x, { training: false }));
      const out = (await f.data()) as Float32Array;
      f.dispose();
      return out;
    },
    dispose() {
      student.dispose();
      teacher.dispose();
      optimizer.dispose();
    },
  };
}
