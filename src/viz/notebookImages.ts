/**
 * Image galleries for the notebooks (display only): rows of images with captions, built
 * on `imageGridFigure` (one PNG mosaic per figure). Inputs are uint8 NHWC arrays or the
 * normalised float views of the augmentation; nothing here touches tensors or models.
 *
 * - `multiCropGridFigure`: an image and its multi-crop views (§6), one row each;
 * - `partitionFigure`: random partitions of the prototypes (§3), one row per draw;
 * - `prototypeGalleryFigure`: images assigned to chosen prototypes (§9.4);
 * - `retrievalGalleryFigure`: a query and its top-ranked database images (§9.7);
 * - `imageRowsFigure`: the generic row layout the others use.
 */
import { baseLayout, categoryColor, type FigureOptions, type PlotlyFigure } from './figure';
import { imageGridFigure } from './imageGrid';

/** uint8 images, row-major `[N, H, W, C]`. */
export interface ImageBatchU8 {
  images: Uint8Array;
  shape: [number, number, number, number];
}

/** Anything holding uint8 NHWC images (an `ImageDataset`, a proxy's query set …). */
export interface ImageHolder {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/** Copies the images at `indices` (in that order) out of `d`. */
export function pickImages(d: ImageHolder, indices: ArrayLike<number>): ImageBatchU8 {
  const per = d.height * d.width * d.channels;
  const images = new Uint8Array(indices.length * per);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(Number.isInteger(i) && i >= 0 && i < d.count)) {
      throw new RangeError(`pickImages: index ${i} outside [0, ${d.count})`);
    }
    images.set(d.images.subarray(i * per, (i + 1) * per), k * per);
  }
  return { images, shape: [indices.length, d.height, d.width, d.channels] };
}

/**
 * Normalised float views (`(x/255 − mean)/std`, NHWC) back to uint8 for display, each
 * image resized to `size` × `size` by nearest neighbour (local crops next to global ones).
 */
export function viewToUint8(
  data: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  mean: readonly number[],
  std: readonly number[],
  size = shape[1],
): ImageBatchU8 {
  const [n, h, w, c] = shape;
  if (data.length !== n * h * w * c) {
    throw new RangeError(`viewToUint8: ${data.length} values do not form [${shape.join(', ')}]`);
  }
  const out = new Uint8Array(n * size * size * c);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < size; y++) {
      const sy = Math.min(h - 1, Math.floor((y * h) / size));
      for (let x = 0; x < size; x++) {
        const sx = Math.min(w - 1, Math.floor((x * w) / size));
        for (let ch = 0; ch < c; ch++) {
          const m = mean.length === c ? mean[ch] : mean[0];
          const s = std.length === c ? std[ch] : std[0];
          const v = (data[((i * h + sy) * w + sx) * c + ch] * s + m) * 255;
          out[((i * size + y) * size + x) * c + ch] = Math.max(0, Math.min(255, Math.round(v)));
        }
      }
    }
  }
  return { images: out, shape: [n, size, size, c] };
}

/** One row of a gallery: images of the same H×W×C, with optional captions. */
export interface ImageRow {
  images: ImageBatchU8;
  captions?: string[];
}

/**
 * Rows of images (shorter rows padded with white), captions above each image.
 * All rows must share H, W and C.
 */
export function imageRowsFigure(rows: readonly ImageRow[], o: FigureOptions = {}): PlotlyFigure {
  if (rows.length === 0) throw new RangeError('imageRowsFigure: no rows');
  const [, h, w, c] = rows[0].images.shape;
  const cols = Math.max(...rows.map((r) => r.images.shape[0]));
  const per = h * w * c;
  const images = new Uint8Array(rows.length * cols * per).fill(255);
  const labels: string[] = [];
  const anyCaption = rows.some((r) => r.captions && r.captions.length > 0);
  rows.forEach((r, ri) => {
    const [n, rh, rw, rc] = r.images.shape;
    if (rh !== h || rw !== w || rc !== c) {
      throw new RangeError(
        `imageRowsFigure: row ${ri} holds ${rh}×${rw}×${rc} images, row 0 ${h}×${w}×${c}`,
      );
    }
    images.set(r.images.images.subarray(0, n * per), ri * cols * per);
    for (let k = 0; k < cols; k++) labels.push(k < n ? (r.captions?.[k] ?? '') : '');
  });
  return imageGridFigure(images, [rows.length * cols, h, w, c], {
    ...o,
    cols,
    labels: anyCaption ? labels : undefined,
  });
}

/**
 * Each image of a batch with its multi-crop views (§6): one row per image —
 * original, global A, global B, local 1 … L (locals enlarged to the global size).
 * `views` are the augmentation's outputs read back (`[B, S, S, C]` normalised floats).
 */
export function multiCropGridFigure(
  originals: ImageBatchU8,
  views: readonly { data: ArrayLike<number>; shape: [number, number, number, number] }[],
  o: FigureOptions & { mean: readonly number[]; std: readonly number[] },
): PlotlyFigure {
  const [n, h, w, c] = originals.shape;
  const size = views.length > 0 ? views[0].shape[1] : h;
  const shown = views.map((v) => viewToUint8(v.data, v.shape, o.mean, o.std, size));
  const original =
    h === size && w === size
      ? originals
      : viewToUint8(
          Float32Array.from(originals.images, (x) => x / 255),
          originals.shape,
          [0],
          [1],
          size,
        );
  const per = size * size * c;
  const captions = [
    'original',
    'global A',
    'global B',
    ...views.slice(2).map((_, i) => `local ${i + 1}`),
  ];
  const rows: ImageRow[] = [];
  for (let i = 0; i < n; i++) {
    const row = new Uint8Array((1 + views.length) * per);
    row.set(original.images.subarray(i * per, (i + 1) * per), 0);
    shown.forEach((v, k) => row.set(v.images.subarray(i * per, (i + 1) * per), (k + 1) * per));
    rows.push({ images: { images: row, shape: [1 + views.length, size, size, c] }, captions });
  }
  return imageRowsFigure(rows, { title: 'Multi-crop views (one row per image)', ...o });
}

/**
 * Random partitions of the K prototypes into blocks of P (§3): one row per draw,
 * one column per prototype, coloured by the block it falls in (grey: left out when P
 * does not divide K). Shows that blocks are re-drawn at every step.
 */
export function partitionFigure(
  partitions: readonly Int32Array[],
  numPrototypes: number,
  partitionSize: number,
  o: FigureOptions = {},
): PlotlyFigure {
  const z: (number | null)[][] = partitions.map((perm) => {
    const row: (number | null)[] = new Array<number | null>(numPrototypes).fill(null);
    perm.forEach((k, pos) => {
      row[k] = Math.floor(pos / partitionSize);
    });
    return row;
  });
  const blocks = Math.floor(numPrototypes / partitionSize);
  // A discrete colour scale: block b gets the palette colour b (cycled beyond 20).
  const colorscale: [number, string][] = [];
  for (let b = 0; b < blocks; b++) {
    const lo = blocks === 1 ? 0 : b / blocks;
    const hi = blocks === 1 ? 1 : (b + 1) / blocks;
    colorscale.push([lo, categoryColor(b)], [hi, categoryColor(b)]);
  }
  const trace = {
    type: 'heatmap',
    z,
    x: Array.from({ length: numPrototypes }, (_, k) => k),
    y: partitions.map((_, i) => `draw ${i + 1}`),
    zmin: -0.5,
    zmax: blocks - 0.5,
    colorscale,
    showscale: blocks <= 20,
    colorbar: { title: { text: 'block' } },
    hovertemplate: 'prototype %{x}: block %{z}<extra>%{y}</extra>',
    xgap: numPrototypes <= 128 ? 1 : 0,
    ygap: 2,
  };
  const layout = baseLayout(
    `Random partitions: K = ${numPrototypes} prototypes in ${blocks} blocks of P = ${partitionSize}`,
    { ...o, height: o.height ?? 120 + 40 * partitions.length },
  );
  layout.xaxis = { title: { text: 'prototype index' } };
  layout.yaxis = { autorange: 'reversed' };
  return { data: [trace], layout };
}

/**
 * Images assigned to each of `prototypes` (§9.4 assignments), one row per prototype,
 * the first `perPrototype` members in dataset order, captioned with their true class
 * (the first one also with the prototype's index); the title lists each row's size.
 */
export function prototypeGalleryFigure(
  d: ImageHolder & { labels: ArrayLike<number>; classes?: string[] },
  assignments: ArrayLike<number>,
  prototypes: readonly number[],
  o: FigureOptions & { perPrototype?: number } = {},
): PlotlyFigure {
  const per = o.perPrototype ?? 8;
  const className = (i: number) => d.classes?.[d.labels[i]] ?? String(d.labels[i]);
  const sizes: string[] = [];
  const rows: ImageRow[] = [];
  for (const p of prototypes) {
    const members: number[] = [];
    for (let i = 0; i < assignments.length; i++) if (assignments[i] === p) members.push(i);
    if (members.length === 0) continue;
    const shown = members.slice(0, per);
    sizes.push(`#${p}: ${members.length}`);
    rows.push({
      images: pickImages(d, shown),
      captions: shown.map((i, k) => (k === 0 ? `#${p}: ` : '') + className(i)),
    });
  }
  if (rows.length === 0)
    throw new RangeError('prototypeGalleryFigure: no image is assigned to those prototypes');
  return imageRowsFigure(rows, {
    title: `Images per prototype, one row each<br><sub>images assigned: ${sizes.join(', ')}</sub>`,
    ...o,
  });
}

/**
 * Queries (first column) and their top-`topK` database images, one row per query;
 * captions mark each result as a positive (✓), junk (~, ignored by the metric) or a
 * negative (✗), as the revisited protocol scores them (§9.7).
 */
export function retrievalGalleryFigure(
  queries: ImageHolder,
  database: ImageHolder,
  ranking: readonly (readonly number[])[],
  groundTruth: readonly {
    easy: readonly number[];
    hard: readonly number[];
    junk: readonly number[];
  }[],
  o: FigureOptions & { queryIds?: readonly number[]; topK?: number } = {},
): PlotlyFigure {
  const topK = o.topK ?? 8;
  const ids = o.queryIds ?? Array.from({ length: Math.min(5, ranking.length) }, (_, i) => i);
  const rows: ImageRow[] = ids.map((q) => {
    const gt = groundTruth[q];
    const easy = new Set(gt.easy);
    const hard = new Set(gt.hard);
    const junk = new Set(gt.junk);
    const top = ranking[q].slice(0, topK);
    const mark = (i: number) =>
      easy.has(i) ? '✓ easy' : hard.has(i) ? '✓ hard' : junk.has(i) ? '~ junk' : '✗';
    const q1 = pickImages(queries, [q]);
    const res = pickImages(database, top);
    const images = new Uint8Array(q1.images.length + res.images.length);
    images.set(q1.images, 0);
    images.set(res.images, q1.images.length);
    return {
      images: { images, shape: [1 + top.length, queries.height, queries.width, queries.channels] },
      captions: [`query ${q}`, ...top.map((i, r) => `${r + 1}: ${mark(i)}`)],
    };
  });
  return imageRowsFigure(rows, { title: `Retrieval: query, then its top ${topK}`, ...o });
}

/**
 * Queries (first column) and their nearest neighbours in a labelled bank (e.g. the k-NN
 * bank, §9.2), one row per query; captions give each neighbour's class, marked ✓
 * when it matches the query's class.
 */
export function neighboursGalleryFigure(
  queries: ImageHolder & { labels: ArrayLike<number> },
  bank: ImageHolder & { labels: ArrayLike<number>; classes?: string[] },
  ranking: readonly (readonly number[])[],
  o: FigureOptions & { queryIds?: readonly number[]; topK?: number } = {},
): PlotlyFigure {
  const topK = o.topK ?? 8;
  const name = (label: number) => bank.classes?.[label] ?? String(label);
  const ids = o.queryIds ?? Array.from({ length: Math.min(5, ranking.length) }, (_, i) => i);
  const rows: ImageRow[] = ids.map((q) => {
    const top = ranking[q].slice(0, topK);
    const images = pickImages(queries, [q]);
    const found = pickImages(bank, top);
    const all = new Uint8Array(images.images.length + found.images.length);
    all.set(images.images, 0);
    all.set(found.images, images.images.length);
    const ql = queries.labels[q];
    return {
      images: {
        images: all,
        shape: [1 + top.length, queries.height, queries.width, queries.channels],
      },
      captions: [
        `query: ${name(ql)}`,
        ...top.map((i) => `${bank.labels[i] === ql ? '✓' : '✗'} ${name(bank.labels[i])}`),
      ],
    };
  });
  return imageRowsFigure(rows, { title: `Nearest neighbours in the bank (top ${topK})`, ...o });
}

/**
 * Copy-detection queries next to their originals (§9.8): one row per original, then
 * its edited copy from each of `blocks` (block query i edits original i, as in the
 * Copydays-style proxy; for `strong`, query i edits original i mod #originals).
 */
export function copyEditsGalleryFigure(
  blocks: readonly { name: string; queries: ImageHolder }[],
  o: FigureOptions & { originals?: readonly number[]; blocks?: readonly string[] } = {},
): PlotlyFigure {
  const names = o.blocks ?? blocks.map((b) => b.name);
  const chosen = names.map((n) => {
    const b = blocks.find((x) => x.name === n);
    if (!b) throw new RangeError(`copyEditsGalleryFigure: no block '${n}'`);
    return b;
  });
  const ids = o.originals ?? [0, 1, 2, 3, 4];
  const rows: ImageRow[] = ids.map((i) => {
    const parts = chosen.map((b) => pickImages(b.queries, [i]));
    const [, h, w, c] = parts[0].shape;
    const images = new Uint8Array(parts.length * h * w * c);
    parts.forEach((p, k) => images.set(p.images, k * h * w * c));
    return { images: { images, shape: [parts.length, h, w, c] }, captions: [...names] };
  });
  return imageRowsFigure(rows, {
    title: 'Copy-detection queries: an original and its edited copies',
    ...o,
  });
}
