/**
 * Image sources: what the loader reads batches from. An in-memory `ImageDataset` and a
 * prepared folder on disk (`openPrepared`, read with positioned async reads so a batch
 * can be fetched while the training step runs) offer the same interface.
 */
import type { ImageDataset } from './dataset';
import { imageBytes } from './dataset';

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

/** The rows `indices` of a source, in the order given (labels included), as split `split`. */
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
    ...(s.preprocessing !== undefined ? { preprocessing: s.preprocessing } : {}),
    ...(s.names ? { names: Array.from(indices, (i) => s.names![i]) } : {}),
    readImages: (idx, out) =>
      s.readImages(
        Array.from(idx, (i) => indices[i]),
        out,
      ),
    close: () => s.close(),
  };
}
