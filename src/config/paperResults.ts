/**
 * What the CARP authors reported and released (§8, §10.1), as typed data for
 * comparisons (notebook 09, reports). Only numbers that could be found are here: the
 * paper's own tables (clustering, transfer k-NN, few-shot, retrieval, copy detection)
 * were not retrievable (§10.1–10.2) and must be regenerated from the official
 * checkpoints, never invented. Accuracies are percentages, as published.
 */

/** One released ImageNet-1k ResNet-50 model and its frozen-feature accuracies (%). */
export interface PaperImageNetResult {
  epochs: number;
  /** Crops per image during pretraining, as the readme writes them. */
  multiCrop: '2x224' | '2x224 + 6x96';
  /** Linear evaluation top-1 on ImageNet val (§9.1). */
  linearTop1: number;
  /** Weighted k-NN top-1 on ImageNet val (§9.2; the k is not stated, 20 assumed). */
  knnTop1: number;
  /** Where the numbers come from (§0 tags). */
  source: string;
}

/** Repository readme / project page, current version [README] (§10.1). */
export const PAPER_IMAGENET_RESULTS: readonly PaperImageNetResult[] = [
  { epochs: 100, multiCrop: '2x224 + 6x96', linearTop1: 72.5, knnTop1: 63.5, source: 'README' },
  { epochs: 200, multiCrop: '2x224 + 6x96', linearTop1: 74.2, knnTop1: 66.5, source: 'README' },
  { epochs: 400, multiCrop: '2x224', linearTop1: 73.0, knnTop1: 67.6, source: 'README' },
  { epochs: 400, multiCrop: '2x224 + 6x96', linearTop1: 75.3, knnTop1: 67.7, source: 'README' },
];

/** An earlier version of the project page (same repository history), §10.1. */
export const PAPER_IMAGENET_RESULTS_EARLIER: readonly PaperImageNetResult[] = [
  {
    epochs: 200,
    multiCrop: '2x224 + 6x96',
    linearTop1: 74.0,
    knnTop1: 66.5,
    source: 'README (earlier)',
  },
  { epochs: 400, multiCrop: '2x224', linearTop1: 70.4, knnTop1: 62.8, source: 'README (earlier)' },
  {
    epochs: 400,
    multiCrop: '2x224 + 6x96',
    linearTop1: 75.0,
    knnTop1: 67.7,
    source: 'README (earlier)',
  },
];

/**
 * The committed linear-evaluation log of the 400-epoch multi-crop checkpoint (§10.1):
 * best top-1 per linear epoch where it improved; final best 75.006 / top-5 92.062 at
 * epoch 94.
 */
export const PAPER_LINEAR_LOG: {
  readonly checkpoint: string;
  readonly curve: readonly { epoch: number; top1: number }[];
  readonly best: { epoch: number; top1: number; top5: number };
} = {
  checkpoint: 'carp-400ep-mc/checkpoint0399.pth',
  curve: [
    { epoch: 0, top1: 55.4 },
    { epoch: 1, top1: 64.41 },
    { epoch: 2, top1: 67.88 },
    { epoch: 4, top1: 70.72 },
    { epoch: 9, top1: 73.2 },
    { epoch: 16, top1: 74.16 },
    { epoch: 49, top1: 74.62 },
    { epoch: 79, top1: 74.87 },
    { epoch: 86, top1: 74.97 },
    { epoch: 94, top1: 75.006 },
  ],
  best: { epoch: 94, top1: 75.006, top5: 92.062 },
};

/** A released checkpoint (Google Drive, not mirrored here; §8). */
export interface OfficialCheckpoint {
  /** Path as the evaluation scripts name it: `<folder>/checkpoint<epoch-1>.pth`. */
  file: string;
  epochs: number;
  /** Inferred from the folder name (`-mc` = multi-crop); unknown where it says nothing. */
  multiCrop: '2x224' | '2x224 + 6x96' | 'unknown';
  /** Base learning-rate note when the folder name carries one. */
  note?: string;
}

/**
 * The checkpoints the evaluation scripts refer to (§8). Each is a full training
 * dictionary; `loadTeacher(file)` takes its `teacher` entry. The 100-epoch multi-crop
 * model is listed in the readme but its file name is not known.
 */
export const OFFICIAL_CHECKPOINTS: readonly OfficialCheckpoint[] = [
  { file: 'carp-200ep/checkpoint0199.pth', epochs: 200, multiCrop: '2x224' },
  { file: 'carp-400ep/checkpoint0399.pth', epochs: 400, multiCrop: '2x224' },
  { file: 'carp-200ep-mc/checkpoint0199.pth', epochs: 200, multiCrop: '2x224 + 6x96' },
  { file: 'carp-400ep-mc/checkpoint0399.pth', epochs: 400, multiCrop: '2x224 + 6x96' },
  {
    file: 'carp-400ep-lr=0.3/checkpoint0399.pth',
    epochs: 400,
    multiCrop: 'unknown',
    note: 'base lr 0.3',
  },
];

/** Where the official checkpoints come from (§8). */
export const OFFICIAL_CHECKPOINT_SOURCE =
  'Google Drive links in the readme of github.com/sthalles/carp (not mirrored by carp-kit: download them yourself)';
