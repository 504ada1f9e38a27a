/**
 * A grid of images (dataset samples, crops of one view, nearest neighbours of a
 * query, samples per prototype) as one plotly figure: the images are tiled into a
 * single mosaic, encoded once as PNG and shown by an `image` trace whose `source`
 * is a data URI — one trace however many images, and the figure stays small
 * (a heatmap would carry every pixel as JSON numbers).
 */
import { baseLayout, type FigureOptions, type PlotlyFigure } from './figure';
import { pngDataUri } from './png';

/** Options of `imageGridFigure`. */
export interface ImageGridOptions extends FigureOptions {
  /** Images per row (default min(N, 8)). */
  cols?: number;
  /** One caption per image, drawn above it. */
  labels?: string[];
  /** Pixels between tiles (default 2); the gap is white. */
  pad?: number;
  /** On-screen pixels per image pixel (default: fit ~96 px per tile). */
  scale?: number;
}

/** The mosaic itself: tiles of uint8 NHWC images on a white background. */
export interface Mosaic {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  cols: number;
  rows: number;
}

/**
 * Tiles `images` (uint8, row-major `[N, H, W, C]`, C ∈ {1, 3, 4}) into one image,
 * `cols` per row, `pad` white pixels around every tile and `above` more above each
 * (room for a caption).
 */
export function tileImages(
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  cols: number,
  pad: number,
  above = 0,
): Mosaic {
  const [n, h, w, c] = shape;
  if (c !== 1 && c !== 3 && c !== 4)
    throw new RangeError(`images need 1, 3 or 4 channels, got ${c}`);
  if (images.length !== n * h * w * c) {
    throw new RangeError(
      `images hold ${images.length} bytes, shape [${shape.join(', ')}] needs ${n * h * w * c}`,
    );
  }
  if (n < 1) throw new RangeError('no images to tile');
  const rows = Math.ceil(n / cols);
  const width = cols * (w + pad) + pad;
  const height = rows * (h + pad + above) + pad;
  const pixels = new Uint8Array(width * height * c).fill(255);
  if (c === 4) for (let i = 3; i < pixels.length; i += 4) pixels[i] = 0; // transparent gaps
  for (let i = 0; i < n; i++) {
    const x0 = pad + (i % cols) * (w + pad);
    const y0 = pad + above + Math.floor(i / cols) * (h + pad + above);
    for (let y = 0; y < h; y++) {
      const src = (i * h + y) * w * c;
      pixels.set(images.subarray(src, src + w * c), ((y0 + y) * width + x0) * c);
    }
  }
  return { pixels, width, height, channels: c, cols, rows };
}

/** Image grid figure from uint8 NHWC images (see module comment). */
export function imageGridFigure(
  images: Uint8Array,
  shape: readonly [number, number, number, number],
  o: ImageGridOptions = {},
): PlotlyFigure {
  const [n, h, w] = shape;
  const cols = Math.max(1, Math.min(o.cols ?? 8, n));
  const pad = o.pad ?? 2;
  const scale = o.scale ?? Math.max(1, Math.round(96 / Math.max(h, w)));
  const labels = o.labels ?? [];
  if (labels.length > 0 && labels.length !== n) {
    throw new RangeError(`got ${labels.length} labels for ${n} images`);
  }
  // Captions need ~14 screen pixels; the mosaic is drawn `scale` times enlarged.
  const above = labels.length > 0 ? Math.ceil(14 / scale) : 0;
  const mosaic = tileImages(images, shape, cols, pad, above);
  const trace = {
    type: 'image',
    source: pngDataUri(mosaic.pixels, mosaic.width, mosaic.height, mosaic.channels),
    hoverinfo: 'skip',
  };
  const layout = baseLayout('Images', {
    ...o,
    height: o.height ?? Math.round(mosaic.height * scale + 60),
    width: o.width ?? Math.max(240, Math.round(mosaic.width * scale + 20)),
  });
  const hidden = { visible: false, showgrid: false, zeroline: false };
  // y grows downwards for images; keep pixels square.
  layout.xaxis = { ...hidden, range: [-0.5, mosaic.width - 0.5] };
  layout.yaxis = { ...hidden, range: [mosaic.height - 0.5, -0.5], scaleanchor: 'x' };
  layout.margin = { l: 10, r: 10, t: 50, b: 10 };
  layout.annotations = labels.map((text, i) => ({
    text,
    x: pad + (i % cols) * (w + pad) + w / 2,
    y: pad + above + Math.floor(i / cols) * (h + pad + above),
    xref: 'x',
    yref: 'y',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 10 },
  }));
  return { data: [trace], layout };
}
