/**
 * Frozen features for every evaluation protocol (§9.0): the teacher backbone in
 * evaluation mode (BN running statistics), no gradient, pooled `[N, D]` features,
 * extracted in batches with progress. Caching on disk is `featureCache.ts`.
 */
import { tf } from '../backend/tf';
import type { Tensor4D } from '../backend/tf';
import type { ImageSource } from '../data/source';
import { backboneFeatures, type CarpNetworkSpec } from '../models/carpNetwork';
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
  /** Progress label (default `features <name>/<split>`). */
  label?: string;
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

/**
 * Runs `forward` over `source` in batches of uint8 images (as float32 `[n, H, W, C]`) and
 * collects its `[n, D]` output rows into one `[count, D]` array, with progress.
 */
export async function mapBatches(
  source: ImageSource,
  batchSize: number,
  forward: (x: Tensor4D) => tf.Tensor2D,
  o: { progress?: boolean; label: string },
): Promise<{ rows: Float32Array; dim: number }> {
  if (!(Number.isInteger(batchSize) && batchSize >= 1))
    throw new Error(`${o.label}: batchSize must be a positive integer, got ${batchSize}`);
  if (source.count === 0) throw new Error(`${o.label}: ${source.name}/${source.split} is empty`);
  const per = source.height * source.width * source.channels;
  const buf = new Uint8Array(batchSize * per);
  const numBatches = Math.ceil(source.count / batchSize);
  const progress =
    (o.progress ?? numBatches > 4)
      ? new Progress({ total: numBatches, label: o.label, itemsPerStep: batchSize })
      : undefined;
  let rows: Float32Array | undefined;
  let dim = 0;
  for (let b = 0; b < numBatches; b++) {
    const start = b * batchSize;
    const n = Math.min(batchSize, source.count - start);
    await source.readImages(
      Int32Array.from({ length: n }, (_, i) => start + i),
      buf,
    );
    const out = tf.tidy(() => {
      const x = tf.tensor4d(
        buf.subarray(0, n * per),
        [n, source.height, source.width, source.channels],
        'int32',
      );
      return forward(tf.cast(x, 'float32') as Tensor4D);
    });
    // Read outside tidy: tidy would walk a returned TypedArray element by element.
    const data = (await out.data()) as Float32Array;
    if (!rows) {
      dim = out.shape[1];
      rows = new Float32Array(source.count * dim);
    }
    out.dispose();
    rows.set(data, start * dim);
    progress?.update(b + 1);
  }
  return { rows: rows!, dim };
}

/** Extracts pooled backbone features in eval mode (§9.0). */
export async function extractFeatures(o: ExtractOptions): Promise<FeatureSet> {
  const { source } = o;
  const batchSize =
    o.batchSize ?? defaultFeatureBatch(o.spec.backbone, source.height, source.width);
  const { rows, dim } = await mapBatches(
    source,
    batchSize,
    (x) => backboneFeatures(o.params, o.spec, o.transform(x), { training: false, folded: true }),
    { progress: o.progress, label: o.label ?? `features ${source.name}/${source.split}` },
  );
  return {
    features: rows,
    labels: source.labels,
    count: source.count,
    dim,
    labelDim: source.labelDim,
  };
}

/** Rows `[start, end)` of a feature set, sharing memory. */
export function sliceFeatures(set: FeatureSet, start: number, end: number): FeatureSet {
  return {
    features: set.features.subarray(start * set.dim, end * set.dim),
    labels: set.labels.subarray(start * set.labelDim, end * set.labelDim),
    count: end - start,
    dim: set.dim,
    labelDim: set.labelDim,
  };
}
