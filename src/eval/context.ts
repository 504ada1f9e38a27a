/**
 * Shared pieces of the protocol runners: where the data-scripts put each dataset, the
 * error when it is not there (naming the path and the script to run), the teacher's input
 * statistics and channel matching, subsets of a source, and the result writer.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { dataRoot } from '../data/datasets';
import { tevalBatch } from '../data/evalTransforms';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImages } from '../data/normalize';
import type { ImageSource } from '../data/source';
import type { LoadedTeacher } from '../interop/loadTeacher';
import { cachedFeatures, extractFeatures, type FeatureSet } from './features';
import { createEvalResult, writeEvalResult, type EvalResult } from './results';

/** The runner context (see protocols.ts `ProtocolContext`, which is this type). */
export interface RunnerContext {
  teacher: LoadedTeacher;
  /** Where results (`eval/`) and the feature cache (`features/`) go. */
  runDir: string;
  /** Dataset name (`fashion-mnist` embedded; others prepared under CARP_DATA_DIR). */
  dataset: string;
  /** Use only the first N images of each split (quick runs); null = all. */
  limit?: number | null;
  batchSize?: number;
}

/** Fills checkpoint, dataset, proxy (false) and time, checks and writes `eval/<protocol>-<dataset>.json`. */
export function finishResult<M>(
  ctx: RunnerContext,
  r: Omit<EvalResult<M>, 'createdAt' | 'checkpoint' | 'proxy' | 'dataset' | 'seconds'>,
  t0: number,
): EvalResult<M> {
  const result = createEvalResult<M>({
    ...r,
    dataset: ctx.dataset,
    proxy: false,
    checkpoint: ctx.teacher.checkpointId,
    seconds: (performance.now() - t0) / 1000,
  });
  writeEvalResult(ctx.runDir, result as EvalResult);
  return result;
}

/** `npx tsx data-scripts/<script>` with the data directory in use. */
function scriptHint(script: string): string {
  return `run: npx tsx data-scripts/${script} --data-dir ${dataRoot()} (or set CARP_DATA_DIR to where it was prepared)`;
}

/** The prepared folder of a split; throws naming the path and the data-script when absent. */
export function requirePrepared(dataset: string, split: string, script: string): string {
  const dir = join(dataRoot(), dataset, split);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new Error(
      `${dataset} split '${split}' is not prepared: ${join(dir, 'manifest.json')} not found (${scriptHint(script)})`,
    );
  }
  return dir;
}

/** A raw file or folder written by a data-script; throws naming the path and the script when absent. */
export function requireRaw(path: string, what: string, script: string): string {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path} (${scriptHint(script)})`);
  return path;
}

/** Normalisation statistics and input channels of the teacher (ImageNet's for PyTorch files). */
export function teacherInput(teacher: LoadedTeacher): {
  mean: number[];
  std: number[];
  inChannels: number;
  cropSize: number;
  name: string;
} {
  const crops = teacher.config?.crops;
  const mean = crops?.mean ?? IMAGENET_MEAN;
  const std = crops?.std ?? IMAGENET_STD;
  const inChannels = teacher.spec.backbone.inChannels;
  const stats = `${mean.map((m) => m.toFixed(3)).join('_')}-${std.map((v) => v.toFixed(3)).join('_')}`;
  return {
    mean,
    std,
    inChannels,
    cropSize: crops?.globalSize ?? 224,
    name: `${stats}-c${inChannels}`,
  };
}

/**
 * The eval-time input transform (spec §9.0): T-eval — resize the shorter side, centre
 * crop, with the protocol's filter (bicubic for k-NN/linear, bilinear for k-means) —
 * then normalise. For the paper's network and official checkpoints that is 256 → 224.
 * For a carp-kit run the crop is the run's global-crop size (resize = crop·256/224)
 * [JUDGEMENT: T-eval scaled to the training resolution], and images already at that size
 * (Fashion-MNIST at 28 px, CIFAR at 32 px) are only normalised. Normalisation uses the
 * run's statistics (ImageNet's for PyTorch files); grey images are replicated when the
 * network wants RGB.
 */
export function evalTransform(
  teacher: LoadedTeacher,
  o: { filter?: 'bicubic' | 'bilinear' } = {},
): { fn: (x: Tensor4D) => Tensor4D; name: string } {
  const { mean, std, inChannels, cropSize: crop, name } = teacherInput(teacher);
  const resize = Math.round((crop * 256) / 224);
  const filter = o.filter ?? 'bicubic';
  return {
    name: `teval${resize}-${crop}-${filter}-${name}`,
    fn: (x) =>
      tf.tidy(() => {
        const rgb =
          x.shape[3] === 1 && inChannels === 3 ? (tf.tile(x, [1, 1, 1, 3]) as Tensor4D) : x;
        const c = rgb.shape[3];
        const m = mean.length === c ? mean : [mean[0]];
        const s = std.length === c ? std : [std[0]];
        const native = rgb.shape[1] === crop && rgb.shape[2] === crop;
        return native
          ? normalizeImages(rgb, m, s)
          : tevalBatch(rgb, { resize, crop, filter, mean: m, std: s });
      }),
  };
}

/** Grey images replicated to RGB for a 3-channel network (as `evalTransform`); other mismatches throw. */
export function matchChannels(x: Tensor4D, inChannels: number, where: string): Tensor4D {
  const c = x.shape[3];
  if (c === inChannels) return x;
  if (c === 1 && inChannels === 3) return tf.tile(x, [1, 1, 1, 3]) as Tensor4D;
  throw new Error(`${where}: images have ${c} channels, the network takes ${inChannels}`);
}

/** The rows `indices` of a source, in the order given (labels included). */
export function subsetSource(s: ImageSource, indices: Int32Array, split = s.split): ImageSource {
  const d = s.labelDim;
  const labels = new Int32Array(indices.length * d);
  indices.forEach((row, i) => {
    if (!(row >= 0 && row < s.count))
      throw new Error(`subsetSource(${s.name}/${s.split}): row ${row} outside [0, ${s.count})`);
    labels.set(s.labels.subarray(row * d, (row + 1) * d), i * d);
  });
  return {
    name: s.name,
    split,
    count: indices.length,
    height: s.height,
    width: s.width,
    channels: s.channels,
    classes: s.classes,
    labelDim: d,
    labels,
    readImages: (idx, out) =>
      s.readImages(
        Array.from(idx, (i) => indices[i]),
        out,
      ),
    close: () => s.close(),
  };
}

/**
 * Features of `source` through `transform`, cached under `<runDir>/features` keyed by the
 * checkpoint, `ctx.dataset`, `split` and the transform's name.
 */
export async function cachedSourceFeatures(
  ctx: RunnerContext,
  source: ImageSource,
  split: string,
  transform: { name: string; fn: (x: Tensor4D) => Tensor4D },
  dataset = ctx.dataset,
): Promise<FeatureSet> {
  const key = { checkpointId: ctx.teacher.checkpointId, dataset, split, transform: transform.name };
  const { cached: _c, ...set } = await cachedFeatures(join(ctx.runDir, 'features'), key, () =>
    extractFeatures({
      params: ctx.teacher.params,
      spec: ctx.teacher.spec,
      source,
      transform: transform.fn,
      batchSize: ctx.batchSize,
    }),
  );
  return set;
}
