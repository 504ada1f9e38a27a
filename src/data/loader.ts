/**
 * Mini-batch loader (§6 "Data loading": shuffled each epoch, incomplete last batch
 * dropped).
 *
 * The order of epoch e is a Fisher–Yates permutation drawn from an Rng seeded with a hash
 * of (seed, e): any (epoch, step) can be produced directly, so a resumed run sees exactly
 * the batches it would have seen without replaying earlier epochs. `batches()` keeps
 * `prefetch` batches in flight: with a file-backed source (`openPrepared`) their reads run
 * on libuv's I/O threads while the caller's (synchronous) training step runs.
 */
import { tf } from '../backend/tf';
import { createRng } from '../random';
import type { ImageDataset } from './dataset';
import type { ImageSource } from './source';
import { isImageSource, memorySource } from './source';

export interface LoaderOptions {
  batchSize: number;
  /** Seed of the shuffles (epoch e uses `epochSeed(seed, e)`). */
  seed: number;
  /** Shuffle every epoch (default true); false keeps dataset order (evaluation). */
  shuffle?: boolean;
  /** Drop the incomplete last batch (default true, §6). */
  dropLast?: boolean;
  /** Batches fetched ahead of the one being consumed (default 1). */
  prefetch?: number;
}

export interface Batch {
  epoch: number;
  step: number;
  /** Dataset indices of the batch's images. */
  indices: Int32Array;
  /** [size, H, W, C] uint8. */
  images: Uint8Array;
  /** [size, labelDim] int32. */
  labels: Int32Array;
  size: number;
  height: number;
  width: number;
  channels: number;
}

/** Position to start (or resume) from; `endEpoch` (exclusive) bounds the iteration. */
export interface LoaderRange {
  epoch?: number;
  step?: number;
  endEpoch?: number;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit seed of epoch `epoch`'s shuffle: a hash of (seed, epoch), no replay needed. */
export function epochSeed(seed: number, epoch: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  return fmix32(fmix32(fmix32(lo ^ 0x5bd1e995) ^ hi) ^ Math.imul(epoch + 1, 0x9e3779b1));
}

export class DataLoader {
  readonly source: ImageSource;
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private readonly dropLast: boolean;
  private readonly prefetch: number;
  private cached: { epoch: number; order: Int32Array } | null = null;

  constructor(data: ImageDataset | ImageSource, opts: LoaderOptions) {
    this.source = isImageSource(data) ? data : memorySource(data);
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    }
    if (!Number.isInteger(opts.seed))
      throw new Error(`DataLoader: seed must be an integer, got ${opts.seed}`);
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.shuffle = opts.shuffle ?? true;
    this.dropLast = opts.dropLast ?? true;
    this.prefetch = Math.max(0, Math.floor(opts.prefetch ?? 1));
    const n = this.source.count;
    this.batchesPerEpoch = this.dropLast
      ? Math.floor(n / this.batchSize)
      : Math.ceil(n / this.batchSize);
    if (this.batchesPerEpoch === 0) {
      throw new Error(
        `DataLoader(${this.source.name}/${this.source.split}): ${n} images give no full batch of ${this.batchSize} ` +
          '(lower batchSize or set dropLast: false)',
      );
    }
  }

  /** The image order of an epoch (a permutation of 0..count−1, or identity without shuffle). */
  epochOrder(epoch: number): Int32Array {
    if (this.cached?.epoch === epoch) return this.cached.order;
    const n = this.source.count;
    const order = this.shuffle
      ? createRng(epochSeed(this.seed, epoch)).permutation(n)
      : Int32Array.from({ length: n }, (_, i) => i);
    this.cached = { epoch, order };
    return order;
  }

  /** Dataset indices of batch `step` of `epoch`. */
  batchIndices(epoch: number, step: number): Int32Array {
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new Error(`DataLoader: epoch must be ≥ 0, got ${epoch}`);
    if (!Number.isInteger(step) || step < 0 || step >= this.batchesPerEpoch) {
      throw new Error(
        `DataLoader: step ${step} outside [0, ${this.batchesPerEpoch}) (batchesPerEpoch)`,
      );
    }
    const start = step * this.batchSize;
    return this.epochOrder(epoch).slice(start, Math.min(start + this.batchSize, this.source.count));
  }

  /** Reads one batch. */
  async fetch(epoch: number, step: number): Promise<Batch> {
    const indices = this.batchIndices(epoch, step);
    const { height, width, channels, labelDim } = this.source;
    const images = new Uint8Array(indices.length * height * width * channels);
    const labels = new Int32Array(indices.length * labelDim);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      labels.set(this.source.labels.subarray(i * labelDim, (i + 1) * labelDim), k * labelDim);
    }
    await this.source.readImages(indices, images);
    return { epoch, step, indices, images, labels, size: indices.length, height, width, channels };
  }

  /** (epoch, step) of a global step counter. */
  position(globalStep: number): { epoch: number; step: number } {
    return {
      epoch: Math.floor(globalStep / this.batchesPerEpoch),
      step: globalStep % this.batchesPerEpoch,
    };
  }

  /**
   * Batches from (epoch, step) on, in order, with `prefetch` batches read ahead. Without
   * `endEpoch` it runs forever; break out of the loop to stop.
   */
  async *batches(range: LoaderRange = {}): AsyncGenerator<Batch> {
    let epoch = range.epoch ?? 0;
    let step = range.step ?? 0;
    this.batchIndices(epoch, step); // validates the start
    const end = range.endEpoch ?? Infinity;
    const queue: Promise<Batch>[] = [];
    const advance = (): void => {
      if (epoch >= end) return;
      const p = this.fetch(epoch, step);
      p.catch(() => {}); // surfaced when awaited; avoids unhandled-rejection noise meanwhile
      queue.push(p);
      if (++step === this.batchesPerEpoch) {
        step = 0;
        epoch++;
      }
    };
    for (let i = 0; i <= this.prefetch; i++) advance();
    while (queue.length > 0) {
      const b = await queue.shift()!;
      advance(); // start the next read before handing this batch to the step
      yield b;
    }
  }

  /** Releases the source's file handles. */
  close(): Promise<void> {
    return this.source.close();
  }
}

/** A batch's images as a [B, H, W, C] tensor (float32 in [0, 255] by default, or int32). */
export function batchToTensor(batch: Batch, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor4D {
  const shape: [number, number, number, number] = [
    batch.size,
    batch.height,
    batch.width,
    batch.channels,
  ];
  const values =
    dtype === 'float32' ? new Float32Array(batch.images) : new Int32Array(batch.images);
  return tf.tensor4d(values, shape, dtype);
}
