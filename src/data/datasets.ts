/**
 * Dataset names → image sources, for the trainer and the CLI.
 *
 * `fashion-mnist` reads Debian's `dataset-fashion-mnist` directly (the embedded default);
 * every other name is a prepared folder (architecture §3.4) written by `data-scripts/`,
 * looked up as `<dataRoot>/<name>/<split>` with dataRoot = `CARP_DATA_DIR` or `./data`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageDataset } from './dataset';
import { loadFashionMnist } from './fashionMnist';
import { openPrepared } from './preparedRead';
import { memorySource, type ImageSource } from './source';

export const EMBEDDED_DATASETS = ['fashion-mnist'] as const;

export function dataRoot(): string {
  return resolve(process.env.CARP_DATA_DIR ?? 'data');
}

/**
 * Opens split `split` of dataset `name`; `limit` keeps the first N images (tiny presets).
 */
export async function openDataset(
  name: string,
  split: string,
  opts: { limit?: number | null } = {},
): Promise<ImageSource> {
  const limit = opts.limit ?? undefined;
  if (name === 'fashion-mnist') {
    if (split !== 'train' && split !== 'test') {
      throw new Error(`dataset fashion-mnist has splits train and test, not '${split}'`);
    }
    return memorySource(loadFashionMnist(split, { limit }));
  }
  const dir = join(dataRoot(), name, split);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new Error(
      `dataset '${name}' split '${split}' not found at ${dir} (prepare it with data-scripts/, ` +
        `or set CARP_DATA_DIR; embedded: ${EMBEDDED_DATASETS.join(', ')})`,
    );
  }
  const source = await openPrepared(dir);
  return limit !== undefined && limit < source.count ? limitSource(source, limit) : source;
}

/**
 * The (bank, query) splits of a labelled dataset for the frozen-feature protocols (method
 * §9.2 table): `trainval` when prepared (FGVC-Aircraft, Pets) else `train`; `test` when
 * prepared else `val` (ImageNet). Fashion-MNIST: train / test.
 */
export function evalSplits(name: string): { bank: string; query: string } {
  if (name === 'fashion-mnist') return { bank: 'train', query: 'test' };
  const has = (split: string) => existsSync(join(dataRoot(), name, split, 'manifest.json'));
  return { bank: has('trainval') ? 'trainval' : 'train', query: has('test') ? 'test' : 'val' };
}

/** The first `limit` images of a source. */
export function limitSource(s: ImageSource, limit: number): ImageSource {
  // Explicit fields: a source may be a class instance whose getters a spread would drop.
  return {
    name: s.name,
    split: s.split,
    count: limit,
    height: s.height,
    width: s.width,
    channels: s.channels,
    classes: s.classes,
    labelDim: s.labelDim,
    labels: s.labels.subarray(0, limit * s.labelDim),
    readImages: (indices, out) => s.readImages(indices, out),
    close: () => s.close(),
  };
}

/** Reads a whole (small) source into memory. */
export async function materialize(s: ImageSource): Promise<ImageDataset> {
  const images = new Uint8Array(s.count * s.height * s.width * s.channels);
  await s.readImages(
    Int32Array.from({ length: s.count }, (_, i) => i),
    images,
  );
  return {
    name: s.name,
    split: s.split,
    count: s.count,
    height: s.height,
    width: s.width,
    channels: s.channels,
    images,
    labels: s.labels,
    classes: s.classes,
    labelDim: s.labelDim,
  };
}
