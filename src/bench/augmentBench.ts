/**
 * Throughput of the multi-crop augmentation (§6) on the active backend, in source
 * images per second (each yields 2 + numLocal views). No peer is measured here
 * (`peer: null`): torchvision's per-image PIL pipeline runs in DataLoader worker processes,
 * which is not comparable on this machine's two shared cores.
 */
import { tf } from '../backend/tf';
import type { MultiCropConfig } from '../data/multiCropConfig';
import { multiCropPreset } from '../data/multiCropConfig';
import { multiCropViews } from '../data/multiCropViews';
import { createRng } from '../random';
import type { BenchRow } from './types';

export interface AugmentBenchOptions {
  /** Augmentation settings (default: the `fmnist` preset). */
  config?: MultiCropConfig;
  /** Source image size and channels (default 28×28×1). */
  height?: number;
  width?: number;
  channels?: number;
  batch?: number;
  /** Timed iterations after one warm-up (default 3). */
  iters?: number;
  seed?: number;
  scenario?: string;
}

/** Measures multi-crop throughput (images/s) on the current tfjs backend. */
export async function augmentBench(o: AugmentBenchOptions = {}): Promise<BenchRow> {
  const cfg = o.config ?? multiCropPreset('fmnist');
  const [h, w, c] = [o.height ?? 28, o.width ?? 28, o.channels ?? 1];
  const batch = o.batch ?? 64;
  const iters = o.iters ?? 3;
  const rng = createRng(o.seed ?? 0);
  const data = new Float32Array(batch * h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  const images = tf.tensor4d(data, [batch, h, w, c]);
  const once = async (): Promise<void> => {
    const views = multiCropViews(images, cfg, rng);
    // Wait for the results so asynchronous backends are timed fully.
    await Promise.all(views.map((v) => v.data()));
    tf.dispose(views);
  };
  try {
    await once();
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) await once();
    const seconds = (performance.now() - t0) / 1000;
    const ours = (batch * iters) / seconds;
    return {
      scenario:
        o.scenario ??
        `multicrop-${h}x${w}x${c}-b${batch}-${cfg.globalSize}x2+${cfg.localSize}x${cfg.numLocal}`,
      unit: 'images/s',
      higherIsBetter: true,
      ours,
      peer: null,
      peerName: 'none',
      speedRatio: null,
      backend: tf.getBackend(),
      notes: [
        `${2 + cfg.numLocal} views per image, filter ${cfg.filter}, ${iters} timed batches of ${batch}`,
        `blur p ${cfg.blurProb.join('/')}, channels ${cfg.channels}`,
      ],
    };
  } finally {
    images.dispose();
  }
}
