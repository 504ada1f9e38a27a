/**
 * Copy detection (§9.8), INRIA Copydays or the offline Fashion-MNIST stand-in; scores
 * from math/copyDetection.ts (optional whitening, cosine top-20, AP over the returned
 * list, mAP per block).
 *
 * - `copydays`: blocks `copydays/<block>` prepared by data-scripts/copydays.ts --prepare
 *   (320×320 bicubic, file names kept; `jpegqual/30` → `copydays/jpegqual-30`), or else
 *   the raw folders `raw/copydays/<block>` decoded and resized the same way. Every block
 *   (the 20 of `COPYDAYS_BLOCKS`, `original` included) is a query set; the database is
 *   the originals, optionally followed by the images of a distractor folder; optional
 *   whitening learnt on a whitening folder. Positives: query i ↔ original i, except
 *   `strong` (originals sharing the first 4 characters of the name). A limit keeps the
 *   first N queries of each block.
 * - `fashion-mnist` → `fmnist-copydetection-proxy` (data/proxies/copyDetectionProxy.ts):
 *   157 originals, Copydays-like edited blocks, 5 000 distractors and a 4 000-image
 *   whitening set from the test split; scored without and with whitening.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { COPYDAYS_BLOCKS } from '../../data/copydays';
import { dataRoot, openDataset } from '../../data/datasets';
import { copyDetectionBatch, copyDetectionImage } from '../../data/evalTransforms';
import { loadFashionMnist } from '../../data/fashionMnist';
import type { FixedSizeTransform } from '../../data/fileList';
import { fileListSource, listImageFiles } from '../../data/fileSource';
import {
  buildCopyDetectionProxy,
  FMNIST_COPYDETECTION_PROXY,
  type CopyDetectionProxy,
  type CopyDetectionProxyOptions,
} from '../../data/proxies/copyDetectionProxy';
import type { ImageDataset } from '../../data/dataset';
import { CROP_PERCENTS, JPEG_QUALITIES } from '../../data/proxies/copyEdits';
import { subsetSource, type ImageSource } from '../../data/source';
import { tf } from '../../backend/tf';
import type { Tensor4D } from '../../backend/tf';
import { checkChannels, teacherInput, type EvalContext, type NamedTransform } from '../context';
import { contextExtractor, extractChecked, type FeatureExtractor } from '../extractors';
import { sliceFeatures, type FeatureSet } from '../features';
import { copyDetectionEvaluation, type CopyDetectionBlock } from '../math/copyDetection';
import { learnWhitening } from '../math/whitening';
import type { EvalResult } from '../results';
import { sourceFeatures } from '../splitFeatures';
import { recordResult, withDefaults } from './record';
import { filesIdentity } from './retrieval';

/** §9.8 settings; the proxy adds its sizes and seed. */
export const COPYDETECTION_DEFAULTS = {
  /** Query blocks (null: all 20). */
  blocks: null as string[] | null,
  /** Folder of distractor images appended to the database (the paper's setting: 10 000 YFCC100M images). */
  distractors: null as string | null,
  /** Folder of images to learn the whitening on (20 000 YFCC100M images in DINO's setting). */
  whitening: null as string | null,
  /** Database items returned per query. */
  topK: 20,
  /** Images are resized to size × size (aspect not kept), bicubic. */
  size: 320,
  /** Proxy only: distractors and whitening images drawn from the test split, and the seed. */
  proxyDistractors: 5000,
  proxyWhitening: 4000,
  proxySeed: 0,
};
export type CopyDetectionOptions = Partial<typeof COPYDETECTION_DEFAULTS>;

export interface CopyDetectionMetrics {
  /** mAP of the `strong` block (the one papers report), when it was run. */
  strong?: number;
  /** mAP per block (fractions), without whitening. */
  blocks: Record<string, number>;
  /** mAP per block with whitening, when a whitening set was used; else null. */
  whitened: Record<string, number> | null;
}

/** Same rule as `readCopydays`: for `strong`, originals sharing the first 4 characters. */
export function copydaysPositives(
  block: string,
  queries: string[],
  originals: string[],
): number[][] {
  if (block !== 'strong') return queries.map((_, i) => [i]);
  return queries.map((q) =>
    originals.flatMap((o, j) => (o.slice(0, 4) === q.slice(0, 4) ? [j] : [])),
  );
}

/** The 320 × 320 bicubic transform of §9.8 as a named network-input transform. */
function copyTransform(ctx: EvalContext, size: number): NamedTransform {
  const input = teacherInput(ctx.teacher);
  return {
    name: `copydetect${size}-bicubic-${input.name}`,
    fn: (x: Tensor4D) =>
      tf.tidy(() => {
        checkChannels(x.shape[3], input.inChannels, 'copy detection');
        const rgb =
          x.shape[3] === 1 && input.inChannels === 3 ? (tf.tile(x, [1, 1, 1, 3]) as Tensor4D) : x;
        return copyDetectionBatch(rgb, {
          size,
          filter: 'bicubic',
          mean: input.mean,
          std: input.std,
        });
      }),
  };
}

/** A block's images (prepared folder, else raw files) and file names. */
async function openBlock(
  dataset: string,
  block: string,
  resize: FixedSizeTransform,
): Promise<{ source: ImageSource; names: string[] }> {
  const split = block.replace('/', '-');
  if (existsSync(join(dataRoot(), dataset, split, 'manifest.json'))) {
    const source = await openDataset(dataset, split);
    if (!source.names || source.names.length !== source.count)
      throw new Error(
        `${join(dataRoot(), dataset, split)} has no file names (names.json); re-run npx tsx data-scripts/copydays.ts --prepare --force`,
      );
    return { source, names: source.names };
  }
  const raw = join(dataRoot(), 'raw', 'copydays', ...block.split('/'));
  if (!existsSync(raw))
    throw new Error(
      `copydays block '${block}' not found: neither ${join(dataRoot(), dataset, split, 'manifest.json')} nor ${raw} ` +
        `(run: npx tsx data-scripts/copydays.ts --prepare --data-dir ${dataRoot()}, or set CARP_DATA_DIR)`,
    );
  const files = listImageFiles(raw, `copydays block '${block}'`).filter((f) => f.endsWith('.jpg'));
  return {
    source: fileListSource({ name: dataset, split, files, transform: resize }),
    names: files.map((f) => basename(f)),
  };
}

/** §9.8 on Copydays (`ctx.dataset`, normally `copydays`). */
async function runCopydays(ctx: EvalContext, s: typeof COPYDETECTION_DEFAULTS, t0: number) {
  const transform = copyTransform(ctx, s.size);
  const resize: FixedSizeTransform = {
    height: s.size,
    width: s.size,
    describe: `resize-${s.size}x${s.size}-bicubic`,
    apply: (img) => copyDetectionImage(img, s.size, 'bicubic'),
  };
  const folder = (dir: string, role: string): Promise<FeatureSet> => {
    const files = listImageFiles(dir, `--${role} folder`);
    const split = basename(resolve(dir));
    const source = fileListSource({ name: `copydays-${role}`, split, files, transform: resize });
    return sourceFeatures(ctx, source, split, transform, `copydays-${role}`, filesIdentity(files));
  };

  const original = await openBlock(ctx.dataset, 'original', resize);
  const db = await sourceFeatures(ctx, original.source, 'original', transform);
  const blocks: CopyDetectionBlock[] = [];
  const splits: Record<string, number> = { database: db.count };
  for (const name of s.blocks ?? COPYDAYS_BLOCKS) {
    if (!COPYDAYS_BLOCKS.includes(name))
      throw new Error(`copydays: unknown block '${name}' (valid: ${COPYDAYS_BLOCKS.join(', ')})`);
    const b = await openBlock(ctx.dataset, name, resize);
    try {
      if (name !== 'strong' && b.source.count !== db.count)
        throw new Error(
          `copydays block ${name}: ${b.source.count} images, expected one per original (${db.count})`,
        );
      const n = ctx.limit ? Math.min(ctx.limit, b.source.count) : b.source.count;
      const split = name.replace('/', '-') + (n < b.source.count ? `-first${n}` : '');
      const rows = Int32Array.from({ length: n }, (_, i) => i);
      const set =
        name === 'original' && n === db.count
          ? db
          : await sourceFeatures(
              ctx,
              n < b.source.count ? subsetSource(b.source, rows, split) : b.source,
              split,
              transform,
            );
      blocks.push({
        name,
        queryFeatures: set.features,
        positives: copydaysPositives(name, b.names.slice(0, n), original.names),
      });
      splits[`queries:${name}`] = n;
    } finally {
      await b.source.close();
    }
  }
  await original.source.close();
  let databaseFeatures = db.features;
  if (s.distractors) {
    const d = await folder(s.distractors, 'distractors');
    databaseFeatures = new Float32Array(db.features.length + d.features.length);
    databaseFeatures.set(db.features);
    databaseFeatures.set(d.features, db.features.length);
    splits.distractors = d.count;
  }
  const base = { databaseFeatures, dim: db.dim, blocks, topK: s.topK };
  const plain = copyDetectionEvaluation(base).blocks;
  let whitened: Record<string, number> | null = null;
  if (s.whitening) {
    const w = await folder(s.whitening, 'whitening');
    whitened = copyDetectionEvaluation({
      ...base,
      whitening: learnWhitening(w.features, w.dim),
    }).blocks;
    splits.whitening = w.count;
  }
  return recordResult(ctx, {
    protocol: 'copydetection',
    defaults: COPYDETECTION_DEFAULTS,
    settings: {
      ...s,
      distractors: s.distractors ? resolve(s.distractors) : null,
      whitening: s.whitening ? resolve(s.whitening) : null,
      filter: 'bicubic',
      dim: db.dim,
    },
    splits,
    metrics: {
      ...(plain.strong !== undefined ? { strong: plain.strong } : {}),
      blocks: plain,
      whitened,
    },
    t0,
  });
}

/**
 * Builds the proxy, extracts its features with `extract`, scores every block without and
 * (when the proxy has a whitening set) with whitening.
 */
export async function copyDetectionProxyEvaluation(
  o: {
    extract: FeatureExtractor;
    /** The test split to build from (default: Fashion-MNIST's). */
    test?: ImageDataset;
    /** Further builder settings (smaller sets for quick checks). */
    build?: CopyDetectionProxyOptions;
  } & CopyDetectionOptions,
): Promise<{
  plain: Record<string, number>;
  whitened: Record<string, number> | null;
  sets: CopyDetectionProxy;
  dim: number;
  queries: number;
}> {
  const { extract, test, build, ...options } = o;
  const s = withDefaults('copydetection', COPYDETECTION_DEFAULTS, options);
  const sets = await buildCopyDetectionProxy(test ?? loadFashionMnist('test'), {
    distractors: s.proxyDistractors,
    whiteningCount: s.proxyWhitening,
    seed: s.proxySeed,
    ...build,
  });
  const db = await extractChecked(extract, sets.database, 'the copy-detection database');
  // All query blocks in one extraction (fewer, fuller batches), sliced afterwards.
  const all = sets.blocks.map((b) => b.queries);
  const per = all[0].height * all[0].width * all[0].channels;
  const images = new Uint8Array(all.reduce((n, d) => n + d.count, 0) * per);
  const labels = new Int32Array(images.length / per);
  let row = 0;
  for (const d of all) {
    images.set(d.images, row * per);
    labels.set(d.labels, row);
    row += d.count;
  }
  const queries = { ...all[0], split: 'queries', count: row, images, labels, names: undefined };
  const q = await extractChecked(extract, queries, 'the copy-detection queries');
  if (q.dim !== db.dim)
    throw new Error(`copy-detection proxy: query dim ${q.dim} != database dim ${db.dim}`);
  row = 0;
  const blocks: CopyDetectionBlock[] = sets.blocks.map((b) => {
    const f = sliceFeatures(q, row, row + b.queries.count);
    row += b.queries.count;
    return { name: b.name, queryFeatures: f.features, positives: b.positives };
  });
  const base = { databaseFeatures: db.features, dim: db.dim, blocks, topK: s.topK };
  const plain = copyDetectionEvaluation(base).blocks;
  let whitened: Record<string, number> | null = null;
  if (sets.whitening) {
    const wf = await extractChecked(extract, sets.whitening, 'the whitening set');
    whitened = copyDetectionEvaluation({
      ...base,
      whitening: learnWhitening(wf.features, wf.dim),
    }).blocks;
  }
  return { plain, whitened, sets, dim: db.dim, queries: row };
}

/** The Fashion-MNIST stand-in (`fmnist-copydetection-proxy`), without and with whitening. */
async function runProxy(ctx: EvalContext, s: typeof COPYDETECTION_DEFAULTS, t0: number) {
  const extract = contextExtractor(ctx, FMNIST_COPYDETECTION_PROXY);
  const r = await copyDetectionProxyEvaluation({ ...s, extract });
  return recordResult(ctx, {
    protocol: 'copydetection',
    dataset: FMNIST_COPYDETECTION_PROXY,
    proxy: true,
    defaults: COPYDETECTION_DEFAULTS,
    settings: {
      ...s,
      jpegQualities: JPEG_QUALITIES,
      cropPercents: CROP_PERCENTS,
      strongEdits:
        'crop 20–50 % + rotate ±25° + flip p.5 + blur σ 1–3 + contrast/brightness + noise σ 4–16 + JPEG 10–40',
      dim: r.dim,
    },
    splits: {
      originals: r.sets.originalIndices.length,
      database: r.sets.database.count,
      queries: r.queries,
      strong: r.sets.blocks[1].queries.count,
      whitening: r.sets.whitening?.count ?? 0,
    },
    metrics: {
      ...(r.plain.strong !== undefined ? { strong: r.plain.strong } : {}),
      blocks: r.plain,
      whitened: r.whitened,
    },
    t0,
    // The proxy's sets have fixed sizes (Copydays' 157 originals): a limit does not apply.
    limit: null,
  });
}

/** Runs §9.8 on Copydays or on the Fashion-MNIST proxy. */
export async function runCopyDetection(
  ctx: EvalContext,
  options: CopyDetectionOptions = {},
): Promise<EvalResult<CopyDetectionMetrics>> {
  const t0 = performance.now();
  const s = withDefaults('copydetection', COPYDETECTION_DEFAULTS, options);
  if (ctx.dataset === 'fashion-mnist') return runProxy(ctx, s, t0);
  if (ctx.dataset !== 'copydays' && !ctx.dataset.startsWith('copydays-'))
    throw new Error(
      `copydetection has no benchmark for dataset '${ctx.dataset}' (valid: fashion-mnist, copydays)`,
    );
  return runCopydays(ctx, s, t0);
}
