/**
 * Frozen features for every evaluation protocol (spec §9.0): the teacher backbone in
 * evaluation mode (BN running statistics), no gradient, pooled `[N, D]` features,
 * extracted in batches with progress, and cached on disk with a manifest so that each
 * protocol reuses them (the reference's --dump_features/--load_features, one function).
 *
 * Cache layout (one folder per key): `manifest.json` { checkpointId, dataset, split,
 * transform, dim, count, labelDim, createdAt } + `features.f32` (row-major float32 LE)
 * + `labels.i32`. Written atomically as a folder (temp folder + rename).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import { commitDir, tempSibling } from '../util/atomic';
import type { ImageSource } from '../data/source';
import { backboneFeatures, type CarpNetworkSpec } from '../models/multiCrop';
import type { ParamStore } from '../models/params';
import type { ResNetSpec } from '../models/resnet';
import { Progress } from '../util/progress';

export interface FeatureSet {
  /** Row-major `[count, dim]`. */
  features: Float32Array;
  /** `[count, labelDim]`. */
  labels: Int32Array;
  count: number;
  dim: number;
  labelDim: number;
}

export interface FeatureKey {
  /** Identifies the weights (e.g. checkpoint path + step, or a content hash). */
  checkpointId: string;
  dataset: string;
  split: string;
  /** Describes the preprocessing (e.g. `teval-28-bilinear-norm`). */
  transform: string;
}

export interface ExtractOptions {
  params: ParamStore;
  /** Only the backbone is used (the head may be absent, e.g. torchvision weights). */
  spec: Pick<CarpNetworkSpec, 'backbone'>;
  source: ImageSource;
  /** uint8 batch `[B, H, W, C]` (as float32 0..255) → network input `[B, H', W', C]`. */
  transform: (batch: Tensor4D) => Tensor4D;
  batchSize?: number;
  /** Show a progress line (default true for more than 4 batches). */
  progress?: boolean;
}

/**
 * A batch size that keeps one forward's activations near 256 MB: the wasm backend's heap
 * is a 32-bit address space and dies with "memory access out of bounds" well before
 * 4 GB (seen: ResNet-50 at 224 px fails at batch 64, works at 16). The widest early
 * activation is about H·W·width floats per image, ×4 for bottleneck blocks; capped at 256.
 */
export function defaultFeatureBatch(backbone: ResNetSpec, height: number, width: number): number {
  const perImage = height * width * backbone.width * (backbone.block === 'bottleneck' ? 4 : 1) * 4;
  return Math.max(1, Math.min(256, Math.floor((256 * 2 ** 20) / perImage)));
}

/** Extracts pooled backbone features in eval mode (spec §9.0). */
export async function extractFeatures(o: ExtractOptions): Promise<FeatureSet> {
  const { source } = o;
  const batchSize =
    o.batchSize ?? defaultFeatureBatch(o.spec.backbone, source.height, source.width);
  if (!(batchSize >= 1))
    throw new Error(`extractFeatures: batchSize must be ≥ 1, got ${batchSize}`);
  if (source.count === 0)
    throw new Error(`extractFeatures: ${source.name}/${source.split} is empty`);
  const per = source.height * source.width * source.channels;
  const buf = new Uint8Array(batchSize * per);
  const numBatches = Math.ceil(source.count / batchSize);
  const progress =
    (o.progress ?? numBatches > 4)
      ? new Progress({
          total: numBatches,
          label: `features ${source.name}/${source.split}`,
          itemsPerStep: batchSize,
        })
      : undefined;
  let features: Float32Array | undefined;
  let dim = 0;
  for (let b = 0; b < numBatches; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, source.count - start);
    const idx = Int32Array.from({ length: n }, (_, i) => start + i);
    await source.readImages(idx, buf);
    const feats = tf.tidy(() => {
      const x = tf.tensor4d(
        buf.subarray(0, n * per),
        [n, source.height, source.width, source.channels],
        'int32',
      );
      return backboneFeatures(o.params, o.spec, o.transform(tf.cast(x, 'float32') as Tensor4D), {
        training: false,
      });
    });
    const data = (await feats.data()) as Float32Array;
    if (!features) {
      dim = feats.shape[1];
      features = new Float32Array(source.count * dim);
    }
    feats.dispose();
    features.set(data, start * dim);
    progress?.update(b + 1);
  }
  return {
    features: features!,
    labels: source.labels,
    count: source.count,
    dim,
    labelDim: source.labelDim,
  };
}

export interface FeatureManifest extends FeatureKey {
  dim: number;
  count: number;
  labelDim: number;
  createdAt: string;
}

/** The cache folder name for a key (readable, filesystem-safe). */
export function featureCacheName(key: FeatureKey): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `${safe(key.dataset)}-${safe(key.split)}-${safe(key.transform)}`;
}

/** Reads a cached feature set if its manifest matches `key`; undefined otherwise. */
export function readCachedFeatures(dir: string, key: FeatureKey): FeatureSet | undefined {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as FeatureManifest;
  if (
    m.checkpointId !== key.checkpointId ||
    m.dataset !== key.dataset ||
    m.split !== key.split ||
    m.transform !== key.transform
  ) {
    return undefined;
  }
  const fBuf = readFileSync(join(dir, 'features.f32'));
  const lBuf = readFileSync(join(dir, 'labels.i32'));
  if (fBuf.length !== m.count * m.dim * 4 || lBuf.length !== m.count * m.labelDim * 4) {
    throw new Error(
      `feature cache ${dir} is corrupt: features.f32 has ${fBuf.length} bytes (expected ${m.count * m.dim * 4}), ` +
        `labels.i32 ${lBuf.length} (expected ${m.count * m.labelDim * 4})`,
    );
  }
  const features = new Float32Array(m.count * m.dim);
  new Uint8Array(features.buffer).set(fBuf);
  const labels = new Int32Array(m.count * m.labelDim);
  new Uint8Array(labels.buffer).set(lBuf);
  return { features, labels, count: m.count, dim: m.dim, labelDim: m.labelDim };
}

/** Writes a feature set into `dir` atomically (replacing an older cache). */
export function writeCachedFeatures(dir: string, key: FeatureKey, set: FeatureSet): void {
  mkdirSync(join(dir, '..'), { recursive: true });
  const tmp = tempSibling(dir);
  mkdirSync(tmp);
  const manifest: FeatureManifest = {
    ...key,
    dim: set.dim,
    count: set.count,
    labelDim: set.labelDim,
    createdAt: new Date().toISOString(),
  };
  writeFileSync(
    join(tmp, 'features.f32'),
    new Uint8Array(set.features.buffer, set.features.byteOffset, set.features.byteLength),
  );
  writeFileSync(
    join(tmp, 'labels.i32'),
    new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength),
  );
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  commitDir(tmp, dir, true);
}

/** Cached extraction: reuses `cacheRoot/<name>` when its manifest matches, else extracts and stores. */
export async function cachedFeatures(
  cacheRoot: string,
  key: FeatureKey,
  extract: () => Promise<FeatureSet>,
): Promise<FeatureSet & { cached: boolean }> {
  const dir = join(cacheRoot, featureCacheName(key));
  const hit = readCachedFeatures(dir, key);
  if (hit) return { ...hit, cached: true };
  const set = await extract();
  writeCachedFeatures(dir, key, set);
  return { ...set, cached: false };
}
