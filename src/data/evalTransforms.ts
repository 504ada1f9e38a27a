/**
 * Evaluation-time image transforms, on tensors (batches of equal-size images) and on
 * single decoded images (CPU, for conversions and file datasets):
 *
 * - T-eval (spec §9.0): resize the shorter side to 256 keeping aspect (long side
 *   floor(256·long/short)), centre crop 224 with offsets round((size − 224)/2) (Python's
 *   round), normalise. Filter per protocol: bicubic or bilinear (PIL, antialiased). The
 *   resize and crop fold into one pair of weight matrices (rows of the resize matrix).
 * - Retrieval (spec §9.7): PIL `thumbnail` to a longest side ≤ imsize (Lanczos, never
 *   upscaling); multi-scale features from bilinear resizes by 1, 1/√2, 1/2 with
 *   PyTorch's `interpolate(scale_factor=s, align_corners=False)` sampling (floor sizes).
 * - Copy detection (spec §9.8): resize to 320 × 320 ignoring aspect, bicubic.
 * All filters are PIL's (see resample.ts), so bicubic is available on the tensor path too.
 */
import { tf } from '../backend/tf';
import type { DecodedImage } from './imageFile';
import { IMAGENET_MEAN, IMAGENET_STD, normalizeImages } from './normalize';
import type { Coefficients, ResampleFilter } from './resample';
import {
  denseMatrix,
  pilCoefficients,
  resampleBatch,
  resampleImage,
  resizeDecoded,
  torchBilinearCoefficients,
} from './resample';

export interface TEvalOptions {
  /** Shorter side after resizing (default 256). */
  resize?: number;
  /** Centre crop size (default 224). */
  crop?: number;
  /** Resize filter (default bicubic; VOC07, iNat and DINO-style k-NN use bilinear). */
  filter?: ResampleFilter;
}

export interface NormalizeOptions {
  mean?: number[];
  std?: number[];
}

/** Python 3's round(): halves go to the even neighbour. */
export function pythonRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Sizes and offsets of T-eval for an H×W image (torchvision Resize(int) + CenterCrop). */
export function tevalGeometry(h: number, w: number, o: TEvalOptions = {}) {
  const size = o.resize ?? 256;
  const crop = o.crop ?? 224;
  const short = Math.min(h, w);
  const long = Math.max(h, w);
  const newLong = Math.floor((size * long) / short);
  const resizedHeight = h <= w ? size : newLong;
  const resizedWidth = h <= w ? newLong : size;
  if (crop > resizedHeight || crop > resizedWidth) {
    throw new Error(
      `T-eval: crop ${crop} is larger than the resized image ${resizedHeight}×${resizedWidth}`,
    );
  }
  return {
    resizedHeight,
    resizedWidth,
    top: pythonRound((resizedHeight - crop) / 2),
    left: pythonRound((resizedWidth - crop) / 2),
    crop,
  };
}

/** Rows [start, start+n) of a coefficient set (resize followed by a crop). */
export function sliceCoefficients(c: Coefficients, start: number, n: number): Coefficients {
  const m = c.maxLen;
  return {
    inSize: c.inSize,
    outSize: n,
    start: c.start.slice(start, start + n),
    len: c.len.slice(start, start + n),
    weights: c.weights.slice(start * m, (start + n) * m),
    maxLen: m,
  };
}

/** Row and column weights of T-eval for an H×W image. */
export function tevalCoefficients(h: number, w: number, o: TEvalOptions = {}) {
  const g = tevalGeometry(h, w, o);
  const filter = o.filter ?? 'bicubic';
  return {
    cy: sliceCoefficients(pilCoefficients(h, g.resizedHeight, filter), g.top, g.crop),
    cx: sliceCoefficients(pilCoefficients(w, g.resizedWidth, filter), g.left, g.crop),
  };
}

function resampleShared(images: tf.Tensor4D, cy: Coefficients, cx: Coefficients): tf.Tensor4D {
  return tf.tidy(() => {
    const ry = tf.tensor2d(denseMatrix(cy), [cy.outSize, cy.inSize]);
    const rx = tf.tensor2d(denseMatrix(cx), [cx.outSize, cx.inSize]);
    return resampleBatch(images, ry, rx, { clip: true });
  });
}

/** T-eval of a batch of equal-size images ([B, H, W, C] in [0, 255]) → normalised [B, crop, crop, C]. */
export function tevalBatch(
  images: tf.Tensor4D,
  o: TEvalOptions & NormalizeOptions = {},
): tf.Tensor4D {
  const [, h, w] = images.shape;
  const { cy, cx } = tevalCoefficients(h, w, o);
  return tf.tidy(() =>
    normalizeImages(resampleShared(images, cy, cx), o.mean ?? IMAGENET_MEAN, o.std ?? IMAGENET_STD),
  );
}

/** T-eval of one decoded image on the CPU → uint8 crop×crop (conversions, file datasets). */
export function tevalImage(img: DecodedImage, o: TEvalOptions = {}): DecodedImage {
  const { cy, cx } = tevalCoefficients(img.height, img.width, o);
  const data = resampleImage(img.data, img.height, img.width, img.channels, cy, cx);
  return { data, height: cy.outSize, width: cx.outSize, channels: img.channels };
}

/** PIL `Image.thumbnail((max, max))` output size [h, w] (unchanged when already small enough). */
export function thumbnailSize(h: number, w: number, maxSide: number): [number, number] {
  let x = Math.floor(maxSide);
  let y = Math.floor(maxSide);
  if (x >= w && y >= h) return [h, w];
  const aspect = w / h;
  // round_aspect: the floor or ceil closest in aspect (floor on ties), at least 1.
  const roundAspect = (v: number, key: (n: number) => number): number => {
    const [f, c] = [Math.floor(v), Math.ceil(v)];
    return Math.max(key(c) < key(f) ? c : f, 1);
  };
  if (x / y >= aspect) x = roundAspect(y * aspect, (n) => Math.abs(aspect - n / y));
  else y = roundAspect(x / aspect, (n) => (n === 0 ? 0 : Math.abs(aspect - x / n)));
  return [y, x];
}

/** Retrieval preprocessing of one image (spec §9.7): Lanczos thumbnail to longest side ≤ imsize. */
export function retrievalImage(img: DecodedImage, imsize = 512): DecodedImage {
  const [oh, ow] = thumbnailSize(img.height, img.width, imsize);
  if (oh === img.height && ow === img.width) return img;
  return resizeDecoded(img, oh, ow, 'lanczos');
}

/** The three scales of the multi-scale retrieval feature (spec §9.7). */
export const RETRIEVAL_SCALES = [1, Math.SQRT1_2, 0.5];

/**
 * Bilinear resizes of a (normalised) batch by each scale, PyTorch-style (floor sizes,
 * half-pixel centres, scale used as given). Scale 1 returns a copy. Caller disposes.
 */
export function multiScaleResize(
  x: tf.Tensor4D,
  scales: number[] = RETRIEVAL_SCALES,
): tf.Tensor4D[] {
  const [, h, w] = x.shape;
  return scales.map((s) => {
    if (s === 1) return tf.clone(x);
    const cy = torchBilinearCoefficients(h, s);
    const cx = torchBilinearCoefficients(w, s);
    return tf.tidy(() =>
      resampleBatch(
        x,
        tf.tensor2d(denseMatrix(cy), [cy.outSize, h]),
        tf.tensor2d(denseMatrix(cx), [cx.outSize, w]),
      ),
    );
  });
}

/** Copy-detection preprocessing of a batch (spec §9.8): resize to size×size (bicubic), normalise. */
export function copyDetectionBatch(
  images: tf.Tensor4D,
  o: { size?: number; filter?: ResampleFilter } & NormalizeOptions = {},
): tf.Tensor4D {
  const [, h, w] = images.shape;
  const size = o.size ?? 320;
  const filter = o.filter ?? 'bicubic';
  const cy = pilCoefficients(h, size, filter);
  const cx = pilCoefficients(w, size, filter);
  return tf.tidy(() =>
    normalizeImages(resampleShared(images, cy, cx), o.mean ?? IMAGENET_MEAN, o.std ?? IMAGENET_STD),
  );
}

/** Copy-detection resize of one image on the CPU → uint8 size×size. */
export function copyDetectionImage(
  img: DecodedImage,
  size = 320,
  filter: ResampleFilter = 'bicubic',
): DecodedImage {
  return resizeDecoded(img, size, size, filter);
}
