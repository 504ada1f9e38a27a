/**
 * 2-D maps of learned features: a seeded UMAP (umap-js) of the backbone or head
 * features, drawn as a scatter coloured by class or by assigned prototype. Seeded
 * through `createRng` so a notebook redraws the same map every run (umap-js would
 * otherwise use Math.random). t-SNE is not offered: the npm implementations are
 * exact O(N²) and unusable beyond ~1k points (architecture §7.6). Markers are SVG
 * (`scatter`, not `scattergl`): WebGL is missing in headless browsers and some viewers.
 */
import { UMAP } from 'umap-js';
import { createRng } from '../random';
import {
  baseLayout,
  categoryColor,
  type FigureOptions,
  type PlotlyFigure,
  type PlotlyTrace,
} from './figure';

/** Options of `umapEmbedding`. */
export interface UmapOptions {
  /** Seed of the layout (default 0). */
  seed?: number;
  /** Neighbourhood size (umap-js default 15; capped at N − 1 for small sets). */
  nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.1). */
  minDist?: number;
  /** Optimisation epochs (umap-js picks 200–500 by N when unset). */
  nEpochs?: number;
}

/**
 * Embeds `features` (row-major `[N, dim]`) in 2-D. Returns `[N, 2]` row-major.
 * ≈15 s for 5000×64 on one core (architecture §7.6): subsample large sets first.
 */
export function umapEmbedding(
  features: Float32Array,
  dim: number,
  o: UmapOptions = {},
): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || features.length % dim !== 0) {
    throw new RangeError(`features of length ${features.length} are not [N, ${dim}]`);
  }
  const n = features.length / dim;
  if (n < 3) throw new RangeError(`UMAP needs at least 3 points, got ${n}`);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(features.subarray(i * dim, (i + 1) * dim)));
  const rng = createRng(o.seed ?? 0);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.min(o.nNeighbors ?? 15, n - 1),
    minDist: o.minDist ?? 0.1,
    nEpochs: o.nEpochs,
    random: () => rng.next(),
  });
  const embedded = umap.fit(rows);
  const out = new Float32Array(n * 2);
  embedded.forEach((p, i) => {
    out[2 * i] = p[0];
    out[2 * i + 1] = p[1];
  });
  return out;
}

/** Options of `embeddingScatterFigure`. */
export interface EmbeddingScatterOptions extends FigureOptions {
  /** Names of the groups (class names); default "class k" / "prototype k". */
  groupNames?: string[];
  /** What `groups` holds; only changes legends and titles. Default 'class'. */
  colorBy?: 'class' | 'prototype';
  /** Marker size in px (default 4). */
  markerSize?: number;
  /**
   * Above this many distinct groups, one trace (palette colour per point, group
   * name on hover) replaces one legend entry per group (prototypes: K can be
   * 65 536). Default 20.
   */
  maxLegendGroups?: number;
}

/** Scatter of 2-D points (`[N, 2]` row-major) coloured by integer group ids. */
export function embeddingScatterFigure(
  points: Float32Array,
  groups: ArrayLike<number>,
  o: EmbeddingScatterOptions = {},
): PlotlyFigure {
  const n = points.length / 2;
  if (!Number.isInteger(n) || groups.length !== n) {
    throw new RangeError(`${points.length / 2} points but ${groups.length} group ids`);
  }
  const colorBy = o.colorBy ?? 'class';
  const nameOf = (g: number): string => o.groupNames?.[g] ?? `${colorBy} ${g}`;
  const size = o.markerSize ?? 4;
  const ids = [...new Set(Array.from(groups))].sort((a, b) => a - b);
  const data: PlotlyTrace[] = [];
  if (ids.length <= (o.maxLegendGroups ?? 20)) {
    for (const g of ids) {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        if (groups[i] !== g) continue;
        x.push(points[2 * i]);
        y.push(points[2 * i + 1]);
      }
      data.push({
        type: 'scatter',
        mode: 'markers',
        name: nameOf(g),
        x,
        y,
        marker: { size, color: categoryColor(g), opacity: 0.8 },
      });
    }
  } else {
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      x.push(points[2 * i]);
      y.push(points[2 * i + 1]);
    }
    data.push({
      type: 'scatter',
      mode: 'markers',
      name: colorBy,
      x,
      y,
      text: Array.from(groups, (g) => nameOf(g)),
      hovertemplate: '%{text}<extra></extra>',
      marker: { size, color: Array.from(groups, categoryColor), opacity: 0.8 },
    });
  }
  const layout = baseLayout(`UMAP of features, coloured by ${colorBy}`, {
    ...o,
    height: o.height ?? 560,
  });
  // Equal aspect (UMAP distances are isotropic); 'domain' shrinks the plot box to
  // a square instead of stretching the x range across a wide notebook cell.
  const hidden = { showticklabels: false, zeroline: false, title: { text: '' } };
  layout.xaxis = { ...hidden, constrain: 'domain' };
  layout.yaxis = { ...hidden, scaleanchor: 'x', constrain: 'domain' };
  return { data, layout };
}
