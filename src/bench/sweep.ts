/**
 * The width sweep (`npm run bench -- --only sweep`, or one scenario of it by id): the
 * CARP train step and eval-mode feature extraction of ResNet-18 with the CIFAR stem at
 * widths 8, 16, 32 and 64, on 28-px single-channel inputs (Fashion-MNIST's shape, 2 × 28 +
 * 4 × 14 px crops) and 32-px three-channel inputs (CIFAR's, 2 × 32 + 4 × 16 px), K 4096,
 * P 512, head hidden 512, plus one train-step row at K 65 536 — each at 1 and 2 threads
 * beside PyTorch in its faster memory format. Not part of the default run (it takes tens
 * of minutes on 2 cores): its scenarios carry the group `sweep`.
 */
import type { TrainStepCase } from './ourCarpStep';

export const SWEEP_GROUP = 'sweep';
export const SWEEP_WIDTHS = [8, 16, 32, 64] as const;
/** Input size in px; 28 px is one channel, 32 px three. */
export const SWEEP_SIZES = [28, 32] as const;
/** Images per optimiser step in every row. */
export const SWEEP_BATCH = 128;
/**
 * Seconds each side is timed at least per feature row and thread count (more alternating
 * batches where a batch is short: width 8 takes 20–50 ms a batch).
 */
export const SWEEP_FEATURE_SECONDS = 1.5;
/** The prototype count of the one large-K row (at width 16, 28 px). */
export const SWEEP_LARGE_K = 65536;

/**
 * Micro-batch per width: the largest divisor of 128 whose step fits the wasm32 heap
 * (4 GiB) with room, from the heap high-water marks the sweep rows record (width 16 at
 * 28 px: 1.1 GiB for 128 images; activations grow with the width). Both sides accumulate
 * the same micro-batches.
 */
export function sweepMicroBatch(width: number): number {
  return width >= 64 ? 64 : 128;
}

export interface SweepCase extends TrainStepCase {
  kind: 'step' | 'features' | 'profile';
  width: number;
}

/**
 * Timed rounds of a train-step row: 2 at every width. One round at width 64 (tens of
 * seconds per step and side) left ours a single sample against the peer's two or three
 * (its layout probe counts), and one loaded moment decided the row.
 */
export const SWEEP_ROUNDS = 2;

/** The scenario id of one sweep case. */
export const sweepId = (kind: SweepCase['kind'], width: number, px: number, k?: number) =>
  `sweep-${kind}-w${width}-${px}px${k ? `-k${k}` : ''}`;

/** One sweep case: width, input size, and optionally K (default 4096). */
export function sweepCase(
  kind: SweepCase['kind'],
  width: number,
  px: number,
  k?: number,
): SweepCase {
  // K 65 536: the [6·B, K] logits and their per-view copies (≈ 200 MB each at B = 128)
  // abort a micro-batch of 128 out of the 4 GiB heap; 32 leaves room.
  const micro = (k ?? 4096) > 4096 ? 32 : sweepMicroBatch(width);
  const overrides = [
    'model.cifarStem=true',
    `model.width=${width}`,
    `model.numPrototypes=${k ?? 4096}`,
    'model.partitionSize=512',
    'model.hiddenDim=512',
    'model.bottleneckDim=256',
    'crops.numLocal=4',
  ];
  return {
    kind,
    width,
    id: sweepId(kind, width, px, k),
    // 28 px: fmnist-small's crops (28 + 14 px, one channel); 32 px: cifar10-r18's (32 + 16, three).
    preset: px === 28 ? 'fmnist-small' : 'cifar10-r18',
    overrides,
    batch: micro,
    accumulation: SWEEP_BATCH / micro,
    ...(micro < SWEEP_BATCH && kind === 'step'
      ? {
          note: `${SWEEP_BATCH} images per step as ${SWEEP_BATCH / micro} accumulated micro-batches of ${micro} on both sides (the largest that fits the 4 GiB wasm32 heap); BN statistics are per ${micro} images`,
        }
      : {}),
  };
}

/** Every sweep case, in the order the group runs them (narrow first). */
export function sweepCases(): SweepCase[] {
  const out: SweepCase[] = [];
  for (const px of SWEEP_SIZES) {
    for (const w of SWEEP_WIDTHS) {
      out.push(sweepCase('step', w, px), sweepCase('features', w, px));
    }
  }
  out.push(sweepCase('step', 16, 28, SWEEP_LARGE_K));
  // Where the time goes (ours only): the narrow and the wide end.
  out.push(sweepCase('profile', 16, 28), sweepCase('profile', 64, 32));
  return out;
}

/** What a sweep scenario's description says. */
export function describeSweep(c: SweepCase): string {
  const m = /w(\d+)-(\d+)px(?:-k(\d+))?/.exec(c.id)!;
  const [w, px, k] = [m[1], Number(m[2]), m[3] ?? '4096'];
  const input = px === 28 ? '28 px 1 ch (2×28 + 4×14 crops)' : '32 px 3 ch (2×32 + 4×16 crops)';
  if (c.kind === 'profile')
    return `sweep: where one micro-step of ${c.batch} goes (stages and kernels, ours only), width ${w}, ${input}, K ${k}`;
  return c.kind === 'step'
    ? `sweep: CARP step images/s, ResNet-18 CIFAR stem width ${w}, ${input}, batch ${SWEEP_BATCH} (micro ${c.batch}), K ${k}, P 512 vs PyTorch (faster layout) 1/2 threads`
    : `sweep: eval-mode features images/s, ResNet-18 CIFAR stem width ${w}, ${px} px, batch ${SWEEP_BATCH} vs PyTorch (faster layout) 1/2 threads`;
}
