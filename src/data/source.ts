/**
 * Image sources: what the loader reads batches from. An in-memory `ImageDataset` and a
 * prepared folder on disk (`openPrepared`, read with positioned async reads so a batch
 * can be fetched while the training step runs) offer the same interface.
 */
import type { ImageDataset } from './dataset';
import { imageBytes } from './dataset';

/** How a limited source was drawn from its full split (see src/data/subset.ts). */
export interface SubsetInfo {
  /** Rows kept. */
  count: number;
  /** Rows of the full split. */
  of: number;
  seed: number;
  /** `class-stratified` (single-label) or `random` (multi-label). */
  rule: 'class-stratified' | 'random';
}

export interface ImageSource {
  readonly name: string;
  readonly split: string;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: string[];
  /** Labels per image (1 unless multi-label). */
  readonly labelDim: number;
  /** All labels, [count, labelDim] (small enough to keep in memory for every dataset). */
  readonly labels: Int32Array;
  /** How the stored pixels were made from the originals (prepared folders), e.g. `shorter-256-centre-256-bicubic`. */
  readonly preprocessing?: string;
  /** Per-image identifiers (file names), when the source has them. */
  readonly names?: string[];
  /**
   * Copies the images at `indices` into `out` ([indices.length, H, W, C], uint8) in the
   * order given. Resolves when done.
   */
  readImages(indices: ArrayLike<number>, out: Uint8Array): Promise<void>;
  /** Releases file handles (no-op for memory sources). */
  close(): Promise<void>;
  /** Present when the source is a `limit`ed subset of its split: how it was drawn. */
  readonly subset?: SubsetInfo;
}

/** Synchronous gather of images `indices` from a dataset into `out`. */
export function gatherImages(
  d: Pick<ImageDataset, 'images' | 'height' | 'width' | 'channels' | 'count' | 'name'>,
  indices: ArrayLike<number>,
  out: Uint8Array,
): void {
  const per = imageBytes(d);
  if (out.length < indices.length * per) {
    throw new Error(
      `gatherImages(${d.name}): output has ${out.length} bytes, needs ${indices.length * per}`,
    );
  }
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < d.count)) {
      throw new Error(`gatherImages(${d.name}): index ${i} outside [0, ${d.count})`);
    }
    out.set(d.images.subarray(i * per, (i + 1) * per), k * per);
  }
}

/** An `ImageSource` over an in-memory dataset. */
export function memorySource(d: ImageDataset): ImageSource {
  return {
    name: d.name,
    split: d.split,
    count: d.count,
    height: d.height,
    width: d.width,
    channels: d.channels,
    classes: d.classes,
    labelDim: d.labelDim ?? 1,
    labels: d.labels,
    ...(d.preprocessing !== undefined ? { preprocessing: d.preprocessing } : {}),
    ...(d.names ? { names: d.names } : {}),
    readImages(indices, out) {
      gatherImages(d, indices, out);
      return Promise.resolve();
    },
    close() {
      return Promise.resolve();
    },
  };
}

/** Whether a value is an `ImageSource` (as opposed to an `ImageDataset`). */
export function isImageSource(x: ImageDataset | ImageSource): x is ImageSource {
  return typeof (x as ImageSource).readImages === 'function';
}

/**
 * The rows `indices` of a source, in the order given (labels and names included), as split
 * `split`; `subset` records how a `limit`ed source was drawn (src/data/subset.ts). Fields
 * are copied one by one: a source may be a class instance whose getters a spread would drop.
 */
export function subsetSource(
  s: ImageSource,
  indices: Int32Array,
  split = s.split,
  subset?: SubsetInfo,
): ImageSource {
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
    ...(s.preprocessing !== undefined ? { preprocessing: s.preprocessing } : {}),
    ...(s.names ? { names: Array.from(indices, (i) => s.names![i]) } : {}),
    ...(subset ? { subset } : {}),
    readImages(rows, out) {
      const mapped = new Int32Array(rows.length);
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k];
        if (!(r >= 0 && r < indices.length)) {
          throw new Error(`${s.name}/${split} subset: index ${r} outside [0, ${indices.length})`);
        }
        mapped[k] = indices[r];
      }
      return s.readImages(mapped, out);
    },
    close: () => s.close(),
  };
}
