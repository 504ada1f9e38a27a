/**
 * Batched crop + resize + horizontal flip (§6 first rows): each image gets its own
 * crop box, resized to size×size with PIL's filter (bicubic by default, as the reference;
 * see resample.ts: exact PIL weights, no need for `cropAndResize`'s bilinear), and
 * optionally mirrored — mirroring reverses the rows of the column matrix, so the flip
 * costs nothing. Two batched matMuls on the active backend; output clipped to [0, 255]
 * like PIL's uint8 result. Input [B, H, W, C] in [0, 255]; output float32 [B, S, S, C].
 */
import { tf } from '../../backend/tf';
import type { ResampleFilter } from '../resample';
import { denseMatrix, pilCoefficients, resampleBatch } from '../resample';
import type { CropBox } from './cropBox';

export function cropResizeFlip(
  images: tf.Tensor4D,
  boxes: readonly CropBox[],
  flips: ArrayLike<boolean>,
  size: number,
  filter: ResampleFilter = 'bicubic',
): tf.Tensor4D {
  const [b, h, w] = images.shape;
  if (boxes.length !== b || flips.length !== b) {
    throw new Error(
      `cropResizeFlip: ${boxes.length} boxes and ${flips.length} flips for a batch of ${b}`,
    );
  }
  const ry = new Float32Array(b * size * h);
  const rx = new Float32Array(b * size * w);
  boxes.forEach((box, i) => {
    const { top, left, height, width } = box;
    if (top < 0 || left < 0 || top + height > h || left + width > w || height < 1 || width < 1) {
      throw new Error(
        `cropResizeFlip: box ${JSON.stringify(box)} of image ${i} is outside ${h}×${w}`,
      );
    }
    // Coefficients over the crop only (taps clipped to it), as PIL's crop-then-resize.
    denseMatrix(
      pilCoefficients(h, size, filter, top, top + height, top, top + height),
      ry,
      i * size * h,
    );
    denseMatrix(
      pilCoefficients(w, size, filter, left, left + width, left, left + width),
      rx,
      i * size * w,
      flips[i],
    );
  });
  return tf.tidy(() =>
    resampleBatch(images, tf.tensor3d(ry, [b, size, h]), tf.tensor3d(rx, [b, size, w]), {
      clip: true,
    }),
  );
}
