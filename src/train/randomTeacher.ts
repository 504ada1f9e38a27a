/**
 * A randomly initialised network in the shape of a trained teacher: the baseline every
 * frozen-feature protocol should beat (random convolutional features are far from
 * useless on small images, so "trained vs random init" tells what pretraining added).
 * Same architecture and initialisation as the trainer's (`createCarpParams`), another seed.
 *
 * A fair baseline also needs batch-norm statistics: a fresh network's running mean 0 and
 * variance 1 do not describe its activations, so in evaluation mode every layer would
 * normalise with wrong statistics and the baseline would look worse than random features
 * are. `reestimateBatchNorm` runs training images through the network in training mode
 * and sets each layer's running statistics to the average of the batch statistics, as a
 * user would before evaluating any network whose statistics are stale.
 */
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { networkSpec } from '../config/derived';
import type { CarpConfig } from '../config/schema';
import type { ImageSource } from '../data/source';
import { BatchNormUpdates } from '../models/layers';
import { backboneFeatures, createCarpParams, multiCropForward } from '../models/carpNetwork';
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

/** Images per batch of `reestimateBatchNorm` (batch statistics need a few hundred). */
export const BN_REESTIMATE_BATCH = 256;

/**
 * Sets the running mean and variance of every BN layer (backbone and head) of `teacher`
 * to the average of its batch statistics over all images of `source`, in batches of
 * `batchSize` (PyTorch's cumulative average, `momentum=None`: batch t enters with weight
 * 1/(t+1)). `transform` turns a uint8-valued float batch into the network's input — the
 * evaluation transform, so the statistics are those of the inputs evaluation will see.
 * Changes the teacher's buffers in place and its `checkpointId` says so; call it before
 * any evaluation of the teacher (the weights digest of the feature cache is taken once).
 *
 * @returns the number of batches averaged.
 */
export async function reestimateBatchNorm(
  teacher: LoadedTeacher,
  source: ImageSource,
  transform: (x: Tensor4D) => Tensor4D,
  o: { batchSize?: number } = {},
): Promise<number> {
  const batchSize = o.batchSize ?? BN_REESTIMATE_BATCH;
  if (!(Number.isInteger(batchSize) && batchSize >= 2))
    throw new Error(`reestimateBatchNorm: batchSize must be an integer ≥ 2, got ${batchSize}`);
  if (source.count < 2)
    throw new Error(`reestimateBatchNorm: ${source.name}/${source.split} has fewer than 2 images`);
  const per = source.height * source.width * source.channels;
  const buf = new Uint8Array(batchSize * per);
  // A last batch of one image has no variance: it joins the batch before it.
  const batches = Math.max(1, Math.floor(source.count / batchSize));
  for (let b = 0; b < batches; b++) {
    const start = b * batchSize;
    const end = b === batches - 1 ? source.count : start + batchSize;
    const n = end - start;
    const chunk = n > batchSize ? new Uint8Array(n * per) : buf;
    await source.readImages(
      Int32Array.from({ length: n }, (_, i) => start + i),
      chunk,
    );
    const updates = new BatchNormUpdates();
    try {
      tf.tidy(() => {
        const x = tf.cast(
          tf.tensor4d(
            chunk.subarray(0, n * per),
            [n, source.height, source.width, source.channels],
            'int32',
          ),
          'float32',
        ) as Tensor4D;
        const opts = { training: true, bnUpdates: updates };
        const { head } = teacher.spec;
        if (head) multiCropForward(teacher.params, { ...teacher.spec, head }, [transform(x)], opts);
        else backboneFeatures(teacher.params, teacher.spec, transform(x), opts);
      });
      updates.apply(1 / (b + 1));
    } finally {
      updates.dispose();
    }
    await tf.nextFrame();
  }
  teacher.checkpointId = `${teacher.checkpointId}-bn-${source.name}-${source.split}-${source.count}`;
  return batches;
}
