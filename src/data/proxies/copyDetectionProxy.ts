/**
 * Offline proxy of the INRIA Copydays copy-detection protocol (spec §9.8):
 * `fmnist-copydetection-proxy`, built from the Fashion-MNIST TEST split only.
 *
 * - originals: a seeded subset of 157 test images (Copydays' count), ascending index order;
 * - query blocks, as Copydays (names and order of `COPYDAYS_BLOCKS`): `original` (the
 *   originals themselves: a sanity block, mAP 1 for any extractor), `strong` (229 seeded
 *   strong edits: query j edits original j mod 157), `jpegqual/{3…75}` (JPEG re-encoding)
 *   and `crops/{10…80}` (centred crop removing that % of the area), see `copyEdits.ts`;
 *   every query is resampled back to the test images' size (28 × 28) for the network;
 * - database: the originals (positions 0…156) followed by distractors (5 000 other test
 *   images; the paper's setting adds 10 000 YFCC100M images);
 * - whitening: learnt on a further disjoint set of test images (4 000) when whitening
 *   is on, as DINO's YFCC whitening set [JUDGEMENT: test images, as the issue asks].
 * Scoring: `copyDetectionEvaluation` (top 20, trapezoidal AP per query, mAP per block),
 * both without and with whitening.
 */
import type { ImageDataset } from '../dataset';
import { subsetDataset } from '../dataset';
import type { DecodedImage } from '../imageFile';
import { createRng } from '../../random';
import {
  applyStrongEdit,
  centredCropBox,
  cropImage,
  CROP_PERCENTS,
  drawStrongEdit,
  JPEG_QUALITIES,
  jpegRecode,
  resizeImage,
  type StrongEdit,
} from './copyEdits';

export const FMNIST_COPYDETECTION_PROXY = 'fmnist-copydetection-proxy';

export interface CopyDetectionProxyOptions {
  /** Originals (default 157). */
  originals?: number;
  /** Strong-edit queries (default round(229 · originals / 157), Copydays' ratio). */
  strongCount?: number;
  /** Distractors added to the database (default 5 000). */
  distractors?: number;
  /** Whitening images (default 4 000; 0: no whitening set). */
  whiteningCount?: number;
  /** Working resolution of the edits (default 112). */
  workSize?: number;
  seed?: number;
}

export interface CopyDetectionProxyBlock {
  name: string;
  queries: ImageDataset;
  /** Per query: database positions of its original(s). */
  positives: number[][];
}

export interface CopyDetectionProxy {
  /** Originals then distractors. */
  database: ImageDataset;
  blocks: CopyDetectionProxyBlock[];
  whitening?: ImageDataset;
  /** Test-split indices. */
  originalIndices: Int32Array;
  distractorIndices: Int32Array;
  whiteningIndices: Int32Array;
  /** The drawn parameters of each strong query. */
  strongEdits: StrongEdit[];
}

function imageAt(d: ImageDataset, i: number): DecodedImage {
  const per = d.height * d.width;
  return {
    data: d.images.subarray(i * per, (i + 1) * per),
    height: d.height,
    width: d.width,
    channels: 1,
  };
}

/** Builds originals, edited query blocks, database and whitening set (deterministic). */
export async function buildCopyDetectionProxy(
  test: ImageDataset,
  o: CopyDetectionProxyOptions = {},
): Promise<CopyDetectionProxy> {
  if (test.channels !== 1 || (test.labelDim ?? 1) !== 1) {
    throw new Error('buildCopyDetectionProxy: test must be single-label greyscale images');
  }
  const nOrig = o.originals ?? 157;
  const nStrong = o.strongCount ?? Math.round((229 * nOrig) / 157);
  const nDis = o.distractors ?? 5000;
  const nWhite = o.whiteningCount ?? 4000;
  const size = o.workSize ?? 112;
  for (const [k, v] of Object.entries({
    originals: nOrig,
    strongCount: nStrong,
    distractors: nDis,
    whiteningCount: nWhite,
    workSize: size,
  })) {
    if (!Number.isInteger(v) || v < (k === 'originals' || k === 'workSize' ? 1 : 0)) {
      throw new Error(
        `buildCopyDetectionProxy: ${k} must be a ${k === 'originals' || k === 'workSize' ? 'positive' : 'non-negative'} integer, got ${v}`,
      );
    }
  }
  if (nOrig + nDis + nWhite > test.count) {
    throw new Error(
      `buildCopyDetectionProxy: originals + distractors + whiteningCount = ${nOrig + nDis + nWhite} exceeds the ${test.count} test images`,
    );
  }
  const rng = createRng(o.seed ?? 0);
  const perm = rng.permutation(test.count);
  const originalIndices = perm.slice(0, nOrig).sort();
  const distractorIndices = perm.slice(nOrig, nOrig + nDis).sort();
  const whiteningIndices = perm.slice(nOrig + nDis, nOrig + nDis + nWhite).sort();
  const tag = (d: ImageDataset, split: string): ImageDataset => ({
    ...d,
    name: FMNIST_COPYDETECTION_PROXY,
    split,
  });
  const originals = subsetDataset(test, originalIndices);
  const [h, w] = [test.height, test.width];
  const up = Array.from({ length: nOrig }, (_, i) =>
    resizeImage(imageAt(originals, i), size, size),
  );

  // A block: one edited image per (query, source original), resized back to h × w.
  const block = async (
    name: string,
    sources: number[],
    edit: (img: DecodedImage, q: number) => Promise<DecodedImage> | DecodedImage,
  ): Promise<CopyDetectionProxyBlock> => {
    const images = new Uint8Array(sources.length * h * w);
    const labels = new Int32Array(sources.length);
    for (let q = 0; q < sources.length; q++) {
      const edited = await edit(up[sources[q]], q);
      images.set(resizeImage(edited, h, w).data, q * h * w);
      labels[q] = originals.labels[sources[q]];
    }
    const queries = tag(
      { ...originals, count: sources.length, images, labels, names: undefined },
      `queries-${name}`,
    );
    return { name, queries, positives: sources.map((s) => [s]) };
  };
  const each = Array.from({ length: nOrig }, (_, i) => i);
  const strongEdits = Array.from({ length: nStrong }, () => drawStrongEdit(rng, size));
  const blocks: CopyDetectionProxyBlock[] = [
    {
      name: 'original',
      queries: tag(originals, 'queries-original'),
      positives: each.map((i) => [i]),
    },
    await block(
      'strong',
      Array.from({ length: nStrong }, (_, q) => q % nOrig),
      (img, q) => applyStrongEdit(img, strongEdits[q]),
    ),
  ];
  for (const quality of JPEG_QUALITIES) {
    blocks.push(await block(`jpegqual/${quality}`, each, (img) => jpegRecode(img, quality)));
  }
  for (const pct of CROP_PERCENTS) {
    blocks.push(
      await block(`crops/${pct}`, each, (img) => cropImage(img, centredCropBox(size, size, pct))),
    );
  }
  const database = tag(
    subsetDataset(test, Int32Array.from([...originalIndices, ...distractorIndices])),
    'database',
  );
  return {
    database,
    blocks,
    whitening: nWhite > 0 ? tag(subsetDataset(test, whiteningIndices), 'whitening') : undefined,
    originalIndices,
    distractorIndices,
    whiteningIndices,
    strongEdits,
  };
}
