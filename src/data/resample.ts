/**
 * Image resampling with PIL's filters, as separable weight matrices.
 *
 * The method's pipelines resize with PIL (bicubic for pre-training crops and copy detection,
 * bilinear for several T-eval scripts, antialiased: §6, §9.0, §9.8). Why our own: the
 * protocols' numbers are defined on PIL's pixels, which neither sharp/libvips nor jimp
 * reproduces (other kernels, supports and rounding), and tfjs has only
 * `resizeBilinear` / `cropAndResize` (no bicubic, no antialias), so we reproduce PIL's
 * `precompute_coeffs` (libImaging/Resample.c): for output pixel x the source centre is
 * in0 + (x + ½)·scale, the filter is stretched by max(scale, 1) when shrinking (that is
 * the antialias), taps are clipped to the source and normalised to sum 1. A crop box
 * [in0, in1) restricted to the crop reproduces PIL's crop-then-resize exactly.
 *
 * A resize is then out = Ry · X · Rxᵀ per channel, Ry [outH, H], Rx [outW, W]: two
 * (batched) matMuls on the active backend, with one matrix pair per image so each image
 * of a batch can have its own crop box and flip (mirroring = reversing the rows of Rx).
 * PIL rounds to uint8 after each pass; we keep float32 (§11.17 allows such small
 * differences), clipping only (option `clip`).
 */
import type { DecodedImage } from './imageFile';
import { tf } from '../backend/tf';

export type ResampleFilter = 'box' | 'bilinear' | 'bicubic' | 'lanczos';

const FILTERS: Record<ResampleFilter, { support: number; f: (x: number) => number }> = {
  box: { support: 0.5, f: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    f: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    // Keys' cubic with a = −0.5, as PIL.
    support: 2,
    f: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    f: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Sparse resampling weights: output i reads source pixels start[i] … start[i]+len[i]−1. */
export interface Coefficients {
  inSize: number;
  outSize: number;
  start: Int32Array;
  len: Int32Array;
  /** [outSize, maxLen] row-major; entries beyond len[i] are 0. */
  weights: Float64Array;
  maxLen: number;
}

/**
 * PIL's resampling weights for resizing the source interval [in0, in1) of an axis of
 * length `inSize` to `outSize` pixels. Taps outside [clip0, clip1) are dropped (default:
 * the whole axis; pass the crop bounds to emulate PIL's crop-then-resize).
 */
export function pilCoefficients(
  inSize: number,
  outSize: number,
  filter: ResampleFilter,
  in0 = 0,
  in1 = inSize,
  clip0 = 0,
  clip1 = inSize,
): Coefficients {
  if (!(outSize >= 1) || !(inSize >= 1) || !(in1 > in0)) {
    throw new Error(
      `pilCoefficients: need inSize, outSize ≥ 1 and in1 > in0, got ${inSize}, ${outSize}, [${in0}, ${in1})`,
    );
  }
  const flt = FILTERS[filter];
  if (!flt)
    throw new Error(
      `pilCoefficients: unknown filter '${filter}' (box, bilinear, bicubic, lanczos)`,
    );
  const scale = (in1 - in0) / outSize;
  const filterscale = Math.max(scale, 1);
  const support = flt.support * filterscale;
  const maxLen = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const len = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxLen);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), clip0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), clip1);
    let ww = 0;
    const n = Math.max(0, Math.min(xmax - xmin, maxLen));
    for (let x = 0; x < n; x++) {
      const w = flt.f((x + xmin - center + 0.5) * ss);
      weights[xx * maxLen + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < n; x++) weights[xx * maxLen + x] /= ww;
    start[xx] = xmin;
    len[xx] = n;
  }
  return { inSize, outSize, start, len, weights, maxLen };
}

/**
 * Linear interpolation as PyTorch's `interpolate(mode='bilinear', align_corners=False)`
 * with an explicit `scale_factor` (§9.7 multi-scale): output size floor(in·s), source
 * coordinate (x + ½)/s − ½ clamped at 0, no antialias.
 */
export function torchBilinearCoefficients(inSize: number, scale: number): Coefficients {
  const outSize = Math.floor(inSize * scale);
  if (outSize < 1)
    throw new Error(`torchBilinearCoefficients: ${inSize}·${scale} gives an empty output`);
  const start = new Int32Array(outSize);
  const len = new Int32Array(outSize).fill(2);
  const weights = new Float64Array(outSize * 2);
  for (let x = 0; x < outSize; x++) {
    const src = Math.max((x + 0.5) / scale - 0.5, 0);
    const x0 = Math.min(Math.floor(src), inSize - 1);
    const x1 = Math.min(x0 + 1, inSize - 1);
    const l1 = src - x0;
    start[x] = x0;
    weights[2 * x] = 1 - l1;
    // When x1 == x0 (right border) both taps hit the same pixel: fold them into one.
    if (x1 === x0) {
      weights[2 * x] = 1;
      len[x] = 1;
    } else weights[2 * x + 1] = l1;
  }
  return { inSize, outSize, start, len, weights, maxLen: 2 };
}

/** Writes the dense [outSize, inSize] matrix of `c` at `out[offset…]`; `mirror` reverses the rows. */
export function denseMatrix(
  c: Coefficients,
  out?: Float32Array,
  offset = 0,
  mirror = false,
): Float32Array {
  const m = out ?? new Float32Array(c.outSize * c.inSize);
  for (let i = 0; i < c.outSize; i++) {
    const row = offset + (mirror ? c.outSize - 1 - i : i) * c.inSize;
    m.fill(0, row, row + c.inSize);
    for (let k = 0; k < c.len[i]; k++) m[row + c.start[i] + k] += c.weights[i * c.maxLen + k];
  }
  return m;
}

/**
 * Resamples a batch: out[b] = Ry[b] · images[b] · Rx[b]ᵀ per channel. `ry` is [outH, H]
 * (shared) or [B, outH, H] (per image), `rx` likewise [outW, W] or [B, outW, W].
 * Columns first, then rows, as PIL; with `clip` the intermediate and the result are
 * clipped to [0, 255] as PIL's uint8 passes are (bicubic and Lanczos overshoot).
 * Returns float32 [B, outH, outW, C].
 */
export function resampleBatch(
  images: tf.Tensor4D,
  ry: tf.Tensor,
  rx: tf.Tensor,
  opts: { clip?: boolean } = {},
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = images.shape;
    const clip = (t: tf.Tensor): tf.Tensor => (opts.clip ? tf.clipByValue(t, 0, 255) : t);
    const x = tf.cast(images, 'float32');
    if (ry.rank === 2 && rx.rank === 2) {
      const [oh, ow] = [ry.shape[0], rx.shape[0]];
      tf.util.assert(
        ry.shape[1] === h && rx.shape[1] === w,
        () =>
          `resampleBatch: Ry must be [*, ${h}] and Rx [*, ${w}], got [${ry.shape}] and [${rx.shape}]`,
      );
      // Columns: [W, B·H·C] → [ow, B·H·C]; rows: [H, B·ow·C] → [oh, B·ow·C].
      const xw = tf.reshape(tf.transpose(x, [2, 0, 1, 3]), [w, b * h * c]);
      const cols = clip(tf.matMul(rx as tf.Tensor2D, xw));
      const xh = tf.reshape(tf.transpose(tf.reshape(cols, [ow, b, h, c]), [2, 1, 0, 3]), [
        h,
        b * ow * c,
      ]);
      const rows = clip(tf.matMul(ry as tf.Tensor2D, xh));
      return tf.transpose(tf.reshape(rows, [oh, b, ow, c]), [1, 0, 2, 3]) as tf.Tensor4D;
    }
    tf.util.assert(
      ry.rank === 3 &&
        rx.rank === 3 &&
        ry.shape[0] === b &&
        rx.shape[0] === b &&
        ry.shape[2] === h &&
        rx.shape[2] === w,
      () =>
        `resampleBatch: per-image Ry must be [${b}, *, ${h}] and Rx [${b}, *, ${w}], got [${ry.shape}] and [${rx.shape}]`,
    );
    const [oh, ow] = [ry.shape[1] as number, rx.shape[1] as number];
    // Columns: [B, W, H·C] → [B, ow, H·C]; rows: [B, H, ow·C] → [B, oh, ow·C].
    const xw = tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, w, h * c]);
    const cols = clip(tf.matMul(rx as tf.Tensor3D, xw));
    const xh = tf.reshape(tf.transpose(tf.reshape(cols, [b, ow, h, c]), [0, 2, 1, 3]), [
      b,
      h,
      ow * c,
    ]);
    const rows = clip(tf.matMul(ry as tf.Tensor3D, xh));
    return tf.reshape(rows, [b, oh, ow, c]) as tf.Tensor4D;
  });
}

/**
 * CPU resampling of one uint8 HWC image (data preparation, file images): columns first,
 * then rows, as PIL; rounded and clipped to uint8 at the end.
 */
export function resampleImage(
  src: Uint8Array,
  h: number,
  w: number,
  c: number,
  cy: Coefficients,
  cx: Coefficients,
): Uint8Array {
  if (src.length !== h * w * c || cy.inSize !== h || cx.inSize !== w) {
    throw new Error(
      `resampleImage: image ${h}×${w}×${c} (${src.length} bytes) does not match the coefficients (${cy.inSize}×${cx.inSize})`,
    );
  }
  const ow = cx.outSize;
  const oh = cy.outSize;
  const tmp = new Float32Array(h * ow * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < ow; x++) {
      const s = cx.start[x];
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < cx.len[x]; k++)
          acc += cx.weights[x * cx.maxLen + k] * src[(y * w + s + k) * c + ch];
        // PIL's first pass writes uint8: round and clip the intermediate too.
        tmp[(y * ow + x) * c + ch] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  const out = new Uint8Array(oh * ow * c);
  for (let y = 0; y < oh; y++) {
    const s = cy.start[y];
    for (let x = 0; x < ow; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < cy.len[y]; k++)
          acc += cy.weights[y * cy.maxLen + k] * tmp[((s + k) * ow + x) * c + ch];
        out[(y * ow + x) * c + ch] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

/** PIL-style resize of one decoded image on the CPU to h × w with `filter` (uint8 out). */
export function resizeDecoded(
  img: DecodedImage,
  h: number,
  w: number,
  filter: ResampleFilter,
): DecodedImage {
  const data = resampleImage(
    img.data,
    img.height,
    img.width,
    img.channels,
    pilCoefficients(img.height, h, filter),
    pilCoefficients(img.width, w, filter),
  );
  return { data, height: h, width: w, channels: img.channels };
}
