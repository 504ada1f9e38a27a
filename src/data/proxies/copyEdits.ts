/**
 * Copydays-like image edits for the copy-detection proxy (spec §9.8 blocks): JPEG
 * re-encoding at a quality, crops removing a share of the area, and seeded "strong"
 * edits (crop + rotation + flip + blur + contrast/brightness + noise + JPEG), standing in
 * for Copydays' print-and-scan, paint and blur attacks.
 *
 * [JUDGEMENT] Edits run at a working resolution (default 112 = 4 × 28 px): the greyscale
 * Fashion-MNIST image is first upsampled (bicubic), edited, then resampled back to the
 * network's 28 × 28 input (bicubic, antialiased; PIL-exact filters from data/resample),
 * like a Copydays photo that is edited at full size and seen by the network at 320 px.
 * At 28 px itself a JPEG 8 × 8 block would cover a third of the garment.
 * Pixel work uses sharp/libvips (deterministic for a given version), one operation per
 * call so that sharp's fixed internal operation order cannot reorder the steps.
 */
import sharp from 'sharp';
import type { DecodedImage } from '../imageFile';
import { resizeDecoded } from '../resample';
import { createRng, type Rng } from '../../random';

/** Copydays `jpegqual/*` qualities and `crops/*` removed-area percentages (spec §9.8). */
export const JPEG_QUALITIES = [3, 5, 8, 10, 15, 20, 30, 50, 75];
export const CROP_PERCENTS = [10, 15, 20, 30, 40, 50, 60, 70, 80];

/** Bicubic (PIL) resize of a greyscale/colour image to h × w. */
export function resizeImage(img: DecodedImage, h: number, w: number): DecodedImage {
  return resizeDecoded(img, h, w, 'bicubic');
}

/** One sharp operation on a greyscale image, back to 1-channel raw pixels. */
async function sharpGrey(
  img: DecodedImage,
  op: (s: sharp.Sharp) => sharp.Sharp,
): Promise<DecodedImage> {
  if (img.channels !== 1)
    throw new Error(`copy edits expect greyscale images, got ${img.channels} channels`);
  const input = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 1 },
  });
  const { data, info } = await op(input)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), height: info.height, width: info.width, channels: 1 };
}

/** Encodes as a greyscale JPEG at `quality` (1–100) and decodes it again. */
export async function jpegRecode(img: DecodedImage, quality: number): Promise<DecodedImage> {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new Error(`jpegRecode: quality must be an integer in [1, 100], got ${quality}`);
  }
  const jpeg = await sharp(Buffer.from(img.data), {
    raw: { width: img.width, height: img.height, channels: 1 },
  })
    .toColourspace('b-w')
    .jpeg({ quality })
    .toBuffer();
  const { data, info } = await sharp(jpeg)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), height: info.height, width: info.width, channels: 1 };
}

/** A crop box (pixels). */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The centred box keeping (100 − p) % of the area, same aspect (Copydays `crops/p`). */
export function centredCropBox(h: number, w: number, removePercent: number): CropBox {
  if (!(removePercent >= 0 && removePercent < 100)) {
    throw new Error(`centredCropBox: removePercent must be in [0, 100), got ${removePercent}`);
  }
  const s = Math.sqrt(1 - removePercent / 100);
  const height = Math.max(1, Math.round(h * s));
  const width = Math.max(1, Math.round(w * s));
  return { left: Math.floor((w - width) / 2), top: Math.floor((h - height) / 2), width, height };
}

/** Copies a box out of an image (pure). */
export function cropImage(img: DecodedImage, box: CropBox): DecodedImage {
  const { left, top, width, height } = box;
  if (left < 0 || top < 0 || left + width > img.width || top + height > img.height) {
    throw new Error(`cropImage: box ${JSON.stringify(box)} outside ${img.height}×${img.width}`);
  }
  const c = img.channels;
  const data = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const src = ((top + y) * img.width + left) * c;
    data.set(img.data.subarray(src, src + width * c), y * width * c);
  }
  return { data, height, width, channels: c };
}

/** Parameters of one strong edit (all drawn up front, so they can be recorded). */
export interface StrongEdit {
  /** Random crop removing 20–50 % of the area. */
  crop: CropBox;
  /** Rotation in degrees, uniform in ±25 (black background, canvas grows). */
  angle: number;
  flip: boolean;
  /** Gaussian blur σ in working pixels, uniform in [1, 3]. */
  blurSigma: number;
  /** out = contrast·in + brightness, contrast in [0.6, 1.4], brightness in [−30, 30]. */
  contrast: number;
  brightness: number;
  /** Additive Gaussian noise σ in grey levels, uniform in [4, 16], from `noiseSeed`. */
  noiseStd: number;
  noiseSeed: number;
  /** Final JPEG quality, integer in [10, 40]. */
  jpegQuality: number;
}

/** Draws the parameters of a strong edit of a size × size working image. */
export function drawStrongEdit(rng: Rng, size: number): StrongEdit {
  const keep = Math.sqrt(1 - rng.uniform(0.2, 0.5));
  const side = Math.max(1, Math.round(size * keep));
  const crop = {
    left: rng.int(size - side + 1),
    top: rng.int(size - side + 1),
    width: side,
    height: side,
  };
  return {
    crop,
    angle: rng.uniform(-25, 25),
    flip: rng.next() < 0.5,
    blurSigma: rng.uniform(1, 3),
    contrast: rng.uniform(0.6, 1.4),
    brightness: rng.uniform(-30, 30),
    noiseStd: rng.uniform(4, 16),
    noiseSeed: rng.seed32(),
    jpegQuality: 10 + rng.int(31),
  };
}

/** Applies a strong edit, in the order of the fields of `StrongEdit`. */
export async function applyStrongEdit(img: DecodedImage, e: StrongEdit): Promise<DecodedImage> {
  let x = cropImage(img, e.crop);
  x = await sharpGrey(x, (s) => s.rotate(e.angle, { background: '#000000' }));
  if (e.flip) x = await sharpGrey(x, (s) => s.flop());
  x = await sharpGrey(x, (s) => s.blur(e.blurSigma));
  x = await sharpGrey(x, (s) => s.linear(e.contrast, e.brightness));
  const noise = createRng(e.noiseSeed);
  const data = new Uint8Array(x.data.length);
  for (let i = 0; i < data.length; i++) {
    data[i] = Math.min(255, Math.max(0, Math.round(x.data[i] + e.noiseStd * noise.normal())));
  }
  return jpegRecode({ ...x, data }, e.jpegQuality);
}
