/**
 * The in-memory image dataset every reader returns and the loader consumes
 * (DESIGN.md §2 `data/`, §3.4 prepared datasets).
 *
 * Images are one contiguous `Uint8Array` in NHWC order ([count, height, width, channels]),
 * labels an `Int32Array` of `count · labelDim` entries: one class index per image for
 * single-label data (labelDim 1), or one value per class for multi-label data (VOC 2007,
 * spec §9.5: +1 / −1 / 0 per class, labelDim 20).
 */

export interface ImageDataset {
  /** Dataset name, e.g. `fashion-mnist`, `cifar10`. */
  name: string;
  /** Split name, e.g. `train`, `test`, `trainval`. */
  split: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** [count, height, width, channels] uint8, row-major (NHWC). */
  images: Uint8Array;
  /** [count, labelDim] int32; labelDim 1: class index in [0, classes.length). */
  labels: Int32Array;
  /** Class names; index = label value (single-label) or label column (multi-label). */
  classes: string[];
  /** Labels per image (1 unless multi-label). */
  labelDim?: number;
  /** Optional per-image identifiers (file names, VOC ids), length `count`. */
  names?: string[];
  /** How the pixels were produced from the originals when not raw (e.g. `teval-256-224-bicubic`). */
  preprocessing?: string;
}

/** Bytes per image of a dataset (H·W·C). */
export function imageBytes(d: Pick<ImageDataset, 'height' | 'width' | 'channels'>): number {
  return d.height * d.width * d.channels;
}

/**
 * Checks the internal consistency of a dataset (array lengths, label range) and throws an
 * error naming `where` and the offending field. Returns the dataset for chaining.
 */
export function validateDataset(d: ImageDataset, where = d.name): ImageDataset {
  const fail = (msg: string): never => {
    throw new Error(`${where}: invalid dataset: ${msg}`);
  };
  for (const k of ['count', 'height', 'width', 'channels'] as const) {
    const v = d[k];
    if (!Number.isInteger(v) || v < 0 || (k !== 'count' && v === 0)) {
      fail(
        `field '${k}' must be a ${k === 'count' ? 'non-negative' : 'positive'} integer, got ${v}`,
      );
    }
  }
  const labelDim = d.labelDim ?? 1;
  if (!Number.isInteger(labelDim) || labelDim < 1)
    fail(`field 'labelDim' must be ≥ 1, got ${labelDim}`);
  if (!(d.images instanceof Uint8Array)) fail(`field 'images' must be a Uint8Array`);
  if (!(d.labels instanceof Int32Array)) fail(`field 'labels' must be an Int32Array`);
  const want = d.count * imageBytes(d);
  if (d.images.length !== want) {
    fail(
      `field 'images' has ${d.images.length} bytes, expected count·H·W·C = ${d.count}·${d.height}·${d.width}·${d.channels} = ${want}`,
    );
  }
  if (d.labels.length !== d.count * labelDim) {
    fail(
      `field 'labels' has ${d.labels.length} entries, expected count·labelDim = ${d.count * labelDim}`,
    );
  }
  if (labelDim === 1 && d.classes.length > 0) {
    for (let i = 0; i < d.count; i++) {
      const y = d.labels[i];
      if (y < 0 || y >= d.classes.length) {
        fail(`labels[${i}] = ${y} is outside [0, ${d.classes.length}) (classes.length)`);
      }
    }
  }
  if (labelDim > 1 && d.classes.length !== labelDim) {
    fail(`multi-label data needs classes.length = labelDim = ${labelDim}, got ${d.classes.length}`);
  }
  if (d.names !== undefined && d.names.length !== d.count) {
    fail(`field 'names' has ${d.names.length} entries, expected count = ${d.count}`);
  }
  return d;
}

/** A view of the images `[start, end)` sharing memory with `d` (names and labels sliced). */
export function sliceDataset(d: ImageDataset, start: number, end: number): ImageDataset {
  const s = Math.max(0, Math.min(start, d.count));
  const e = Math.max(s, Math.min(end, d.count));
  const per = imageBytes(d);
  const ld = d.labelDim ?? 1;
  return {
    ...d,
    count: e - s,
    images: d.images.subarray(s * per, e * per),
    labels: d.labels.subarray(s * ld, e * ld),
    names: d.names?.slice(s, e),
  };
}

/** A copy holding the images at `indices` (in that order), optionally renamed (`as`). */
export function subsetDataset(
  d: ImageDataset,
  indices: ArrayLike<number>,
  as?: { name: string; split: string },
): ImageDataset {
  const per = imageBytes(d);
  const ld = d.labelDim ?? 1;
  const images = new Uint8Array(indices.length * per);
  const labels = new Int32Array(indices.length * ld);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!Number.isInteger(i) || i < 0 || i >= d.count) {
      throw new Error(
        `subsetDataset(${d.name}): index ${i} at position ${k} is outside [0, ${d.count})`,
      );
    }
    images.set(d.images.subarray(i * per, (i + 1) * per), k * per);
    labels.set(d.labels.subarray(i * ld, (i + 1) * ld), k * ld);
  }
  const names = d.names ? Array.from(indices, (i) => d.names![i]) : undefined;
  return { ...d, ...as, count: indices.length, images, labels, names };
}
