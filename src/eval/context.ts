/**
 * The one evaluation context every protocol of §9 takes, and what it knows about the
 * frozen teacher's input: normalisation, channels, crop size, the T-eval transform of
 * §9.0, and the checks that refuse a dataset the network cannot honestly be evaluated on.
 *
 * A protocol's numbers must describe what was computed. So:
 * - channels must match, except greyscale images to an RGB network, replicated as PIL's
 *   `convert('RGB')` does (the paper's loaders open every image that way); 3 → 1 and
 *   other counts are refused;
 * - a carp-kit run evaluated on a dataset other than its own whose images differ in size
 *   from the run's training crops is a transfer evaluation: refused unless `transfer` is
 *   set (T-eval then resizes them to the run's crop, as §9.0 does for official weights);
 * - images prepared with a resize filter (e.g. `shorter-256-centre-256-bicubic`) cannot be
 *   re-filtered: a protocol that resizes with another filter is refused, naming the
 *   folder variant to prepare (`--filter`), instead of labelling the features wrongly;
 * - images already at the crop size are only normalised, and the transform's name says
 *   so (`crop28-noresize`), never claiming a filter that was not applied.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { dataRoot } from '../data/datasets';
import { tevalBatch } from '../data/evalTransforms';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImages } from '../data/normalize';
import type { ResampleFilter } from '../data/resample';
import type { ImageSource } from '../data/source';
import type { LoadedTeacher } from '../interop/loadTeacher';

/** What every protocol runner takes. */
export interface EvalContext {
  teacher: LoadedTeacher;
  /** Where results (`eval/`) and the feature cache (`features/`) go. */
  runDir: string;
  /** Dataset name (`fashion-mnist` embedded; others prepared under CARP_DATA_DIR). */
  dataset: string;
  /**
   * Evaluate on a seeded class-stratified subset of N images per split (quick runs); such
   * results are partial: filed under their own name, never replacing a full result.
   */
  limit?: number | null;
  /** Images per forward pass (default: sized from the network, `defaultFeatureBatch`). */
  batchSize?: number;
  /** Allow a carp-kit run on a dataset other than its own with another image size. */
  transfer?: boolean;
}

/** The teacher's input: normalisation statistics, channels and crop size. */
export interface TeacherInput {
  mean: number[];
  std: number[];
  inChannels: number;
  /** T-eval crop: the run's global crop size, or 224 for PyTorch files (§9.0). */
  cropSize: number;
  /** Filesystem-safe summary used in feature-cache keys. */
  name: string;
}

/** Normalisation statistics, channels and crop of the teacher (ImageNet's for PyTorch files). */
export function teacherInput(teacher: LoadedTeacher): TeacherInput {
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

/** The dataset a teacher is evaluated on by default: its run's own (ImageNet for PyTorch files). */
export function defaultEvalDataset(teacher: LoadedTeacher): string {
  return teacher.config?.data.dataset ?? 'imagenet';
}

/** Throws when `images` (channels) cannot be fed to a network taking `inChannels`. */
export function checkChannels(channels: number, inChannels: number, where: string): void {
  if (channels === inChannels || (channels === 1 && inChannels === 3)) return;
  throw new Error(
    `${where}: images have ${channels} channel(s), the network takes ${inChannels}` +
      (channels === 3 && inChannels === 1
        ? ' (RGB images are not converted to grey: evaluate a network trained on RGB data)'
        : ''),
  );
}

/** The resize filter a prepared split was stored with (`…-centre-256-bicubic`), if any. */
export function preparedFilter(source: ImageSource): ResampleFilter | undefined {
  const m = source.preprocessing?.match(/-(box|bilinear|bicubic|lanczos)$/);
  return m ? (m[1] as ResampleFilter) : undefined;
}

/**
 * Refuses a source the teacher cannot honestly be evaluated on with `filter` (see the
 * header): channels, a transfer without `ctx.transfer`, a prepared resize filter that
 * differs from the protocol's.
 */
export function checkEvalInput(
  ctx: EvalContext,
  source: ImageSource,
  filter: ResampleFilter | null,
): void {
  const where = `${ctx.dataset}/${source.split}`;
  const input = teacherInput(ctx.teacher);
  checkChannels(source.channels, input.inChannels, where);
  const own = ctx.teacher.config?.data.dataset;
  const sameSize = source.height === input.cropSize && source.width === input.cropSize;
  if (own !== undefined && own !== ctx.dataset && !sameSize && !ctx.transfer) {
    throw new Error(
      `${where}: images are ${source.height}×${source.width}, the run trained on ${own} with ` +
        `${input.cropSize}-px crops; evaluating it here is a transfer evaluation: pass --transfer ` +
        `(T-eval resizes the images to ${input.cropSize} px) or evaluate on ${own}`,
    );
  }
  const stored = preparedFilter(source);
  if (filter !== null && stored !== undefined && stored !== filter && !sameSize) {
    throw new Error(
      `${where} was prepared with a ${stored} resize, but this protocol resizes with ${filter} ` +
        `(§9.0): prepare the '${filter}' variant (data-scripts/<dataset>.ts --filter ${filter}) ` +
        `and evaluate on '${ctx.dataset.replace(/-(box|bilinear|bicubic|lanczos)$/, '')}-${filter}'`,
    );
  }
}

/** A named transform of uint8-valued batches `[B, H, W, C]` into network inputs. */
export interface NamedTransform {
  fn: (x: Tensor4D) => Tensor4D;
  /** Describes exactly what `fn` does (a feature-cache key). */
  name: string;
}

/**
 * The eval-time input transform (§9.0) for images of `height × width`: T-eval (shorter
 * side to crop·256/224, centre crop, with `filter`) then normalisation; images already at
 * the crop size are only normalised. For the paper's network and PyTorch files the crop
 * is 224 (resize 256); for a carp-kit run it is the run's global-crop size (T-eval scaled
 * to the training resolution, §11 judgement calls). Grey images are replicated for an RGB
 * network.
 */
export function evalTransform(
  teacher: LoadedTeacher,
  o: { filter?: ResampleFilter; height?: number; width?: number } = {},
): NamedTransform {
  const { mean, std, inChannels, cropSize: crop, name } = teacherInput(teacher);
  const resize = Math.round((crop * 256) / 224);
  const filter = o.filter ?? 'bicubic';
  const native = o.height === crop && o.width === crop;
  return {
    name: native ? `crop${crop}-noresize-${name}` : `teval${resize}-${crop}-${filter}-${name}`,
    fn: (x) =>
      tf.tidy(() => {
        checkChannels(x.shape[3], inChannels, 'evalTransform');
        const rgb =
          x.shape[3] === 1 && inChannels === 3 ? (tf.tile(x, [1, 1, 1, 3]) as Tensor4D) : x;
        const c = rgb.shape[3];
        const m = mean.length === c ? mean : [mean[0]];
        const s = std.length === c ? std : [std[0]];
        if (rgb.shape[1] === crop && rgb.shape[2] === crop) return normalizeImages(rgb, m, s);
        if (native)
          throw new Error(`evalTransform: expected ${crop}×${crop} images, got ${rgb.shape}`);
        return tevalBatch(rgb, { resize, crop, filter, mean: m, std: s });
      }),
  };
}

/**
 * A content digest of the teacher's weights (sha256 over every parameter and buffer in
 * name order, 16 hex digits): the feature cache's key, so that a retrained or replaced
 * checkpoint at the same path never reuses old features. Computed once per teacher.
 */
export async function weightsDigest(teacher: LoadedTeacher): Promise<string> {
  const cached = digests.get(teacher.params);
  if (cached) return cached;
  const h = createHash('sha256');
  for (const name of [...teacher.params.names()].sort()) {
    const v = teacher.params.get(name);
    h.update(`${name}:${v.dtype}:${v.shape.join('x')};`);
    // Asynchronous read: the webgpu backend cannot read synchronously in Node.
    const data = await v.data();
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const d = h.digest('hex').slice(0, 16);
  digests.set(teacher.params, d);
  return d;
}
const digests = new WeakMap<object, string>();

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
