/**
 * INRIA Copydays copy detection on the prepared data (spec §9.8).
 *
 * Blocks: `copydays/<block>` prepared by `data-scripts/copydays.ts --prepare` (320×320
 * bicubic, file names kept; `jpegqual/30` → `copydays/jpegqual-30`), or else the raw
 * folders `raw/copydays/<block>` decoded and resized the same way. Every block (the 20 of
 * `COPYDAYS_BLOCKS`, `original` included) is a query set; the database is the originals,
 * optionally followed by the images of a distractor folder. Features: resize to 320×320
 * (aspect not kept, bicubic; `copyDetectionBatch`), normalise, pooled backbone feature.
 * Optional whitening learnt on the features of a whitening folder (`learnWhitening`).
 * Cosine top-20 per query, AP over the returned list; mAP per block. Positives: query i ↔
 * original i, except `strong` (originals sharing the first 4 characters of the name).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { COPYDAYS_BLOCKS } from '../../data/copydays';
import { dataRoot, openDataset } from '../../data/datasets';
import { copyDetectionBatch, copyDetectionImage } from '../../data/evalTransforms';
import type { FixedSizeTransform } from '../../data/fileList';
import type { ImageSource } from '../../data/source';
import { copyDetectionEvaluation, learnWhitening, type CopyDetectionBlock } from '../math/whitening';
import type { EvalResult } from '../results';
import type { FeatureSet } from '../features';
import {
  cachedSourceFeatures,
  finishResult,
  matchChannels,
  subsetSource,
  teacherInput,
  type RunnerContext,
} from '../context';
import { fileListSource, listImageFiles } from '../../data/fileSource';

export interface CopydaysOptions {
  /** Query blocks (default all 20, spec §9.8). */
  blocks?: string[];
  /** Folder of distractor images appended to the database (spec: 10 000 YFCC100M images). */
  distractors?: string;
  /** Folder of images to learn the whitening on (spec: 20 000 YFCC100M images). */
  whitening?: string;
  /** Database items returned per query (spec: 20). */
  topK?: number;
}

export interface CopydaysMetrics {
  /** mAP of the `strong` block (the one papers report), when it was run. */
  strong?: number;
  /** mAP per block (fractions). */
  blocks: Record<string, number>;
}

const SIZE = 320;
const RESIZE: FixedSizeTransform = {
  height: SIZE,
  width: SIZE,
  describe: `resize-${SIZE}x${SIZE}-bicubic`,
  apply: (img) => copyDetectionImage(img, SIZE, 'bicubic'),
};

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

/** A block's images (prepared folder, else raw files) and file names. */
async function openBlock(
  dataset: string,
  block: string,
): Promise<{ source: ImageSource; names: string[] }> {
  const split = block.replace('/', '-');
  if (existsSync(join(dataRoot(), dataset, split, 'manifest.json'))) {
    const source = await openDataset(dataset, split);
    const names = (source as ImageSource & { names?: string[] }).names;
    if (!names || names.length !== source.count)
      throw new Error(
        `${join(dataRoot(), dataset, split)} has no file names (names.json); re-run npx tsx data-scripts/copydays.ts --prepare --force`,
      );
    return { source, names };
  }
  const raw = join(dataRoot(), 'raw', 'copydays', ...block.split('/'));
  if (!existsSync(raw))
    throw new Error(
      `copydays block '${block}' not found: neither ${join(dataRoot(), dataset, split, 'manifest.json')} nor ${raw} ` +
        `(run: npx tsx data-scripts/copydays.ts --prepare --data-dir ${dataRoot()}, or set CARP_DATA_DIR)`,
    );
  const files = listImageFiles(raw, `copydays block '${block}'`).filter((f) => f.endsWith('.jpg'));
  return {
    source: fileListSource({ name: dataset, split, files, transform: RESIZE }),
    names: files.map((f) => basename(f)),
  };
}

/** Runs §9.8 on Copydays (`ctx.dataset`, normally `copydays`). */
export async function runCopydays(
  ctx: RunnerContext,
  o: CopydaysOptions = {},
): Promise<EvalResult<CopydaysMetrics>> {
  const t0 = performance.now();
  const input = teacherInput(ctx.teacher);
  const transform = {
    name: `copydetect${SIZE}-bicubic-${input.name}`,
    fn: (x: Parameters<typeof copyDetectionBatch>[0]) =>
      copyDetectionBatch(matchChannels(x, input.inChannels, 'copy detection'), {
        size: SIZE,
        filter: 'bicubic',
        mean: input.mean,
        std: input.std,
      }),
  };
  const features = (source: ImageSource, split: string, dataset?: string) =>
    cachedSourceFeatures(ctx, source, split, transform, dataset);
  const folder = async (dir: string, role: string): Promise<FeatureSet> => {
    const files = listImageFiles(dir, `--${role} folder`);
    const id = createHash('sha1')
      .update(`${resolve(dir)}\n${files.join('\n')}`)
      .digest('hex');
    const source = fileListSource({
      name: `copydays-${role}`,
      split: basename(resolve(dir)),
      files,
      transform: RESIZE,
    });
    return features(
      source,
      `${basename(resolve(dir))}-${files.length}-${id.slice(0, 10)}`,
      `copydays-${role}`,
    );
  };

  const original = await openBlock(ctx.dataset, 'original');
  const db = await features(original.source, 'original');
  const blocks: CopyDetectionBlock[] = [];
  const splits: Record<string, number> = { database: db.count };
  for (const name of o.blocks ?? COPYDAYS_BLOCKS) {
    if (!COPYDAYS_BLOCKS.includes(name))
      throw new Error(`copydays: unknown block '${name}' (valid: ${COPYDAYS_BLOCKS.join(', ')})`);
    const b = await openBlock(ctx.dataset, name);
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
        : await features(
            n < b.source.count ? subsetSource(b.source, rows, split) : b.source,
            split,
          );
    const positives = copydaysPositives(name, b.names.slice(0, n), original.names);
    blocks.push({ name, queryFeatures: set.features, positives });
    splits[`queries:${name}`] = n;
    await b.source.close();
  }
  let databaseFeatures = db.features;
  if (o.distractors) {
    const d = await folder(o.distractors, 'distractors');
    databaseFeatures = new Float32Array(db.features.length + d.features.length);
    databaseFeatures.set(db.features);
    databaseFeatures.set(d.features, db.features.length);
    splits.distractors = d.count;
  }
  let whitening;
  if (o.whitening) {
    const w = await folder(o.whitening, 'whitening');
    whitening = learnWhitening(w.features, w.dim);
    splits.whitening = w.count;
  }
  await original.source.close();
  const topK = o.topK ?? 20;
  const r = copyDetectionEvaluation({ databaseFeatures, dim: db.dim, blocks, whitening, topK });
  return finishResult(
    ctx,
    {
      protocol: 'copydetection',
      splits,
      settings: {
        size: SIZE,
        filter: 'bicubic',
        topK,
        distractors: o.distractors ? resolve(o.distractors) : null,
        whitening: o.whitening ? resolve(o.whitening) : null,
        dim: db.dim,
      },
      metrics: {
        ...(r.blocks.strong !== undefined ? { strong: r.blocks.strong } : {}),
        blocks: r.blocks,
      },
    },
    t0,
  );
}
