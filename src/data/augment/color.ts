/**
 * Colour operations of §6 with PIL semantics, on float [n, H, W, C] batches in
 * [0, 255] with one factor per image (a [n] array). C is 3 (RGB) or 1 (greyscale input:
 * luma = the channel itself; saturation and hue are identities there).
 *   brightness f: blend with black            → clip(f·x)
 *   contrast f:   blend with the mean luma m   → clip(m + f·(x − m)), m rounded as PIL
 *   saturation f: blend with the luma image L  → clip(L + f·(x − L))
 *   hue δ:        H ← (H + δ) mod 1 in HSV
 *   greyscale:    L = 0.299 R + 0.587 G + 0.114 B replicated (ITU-R 601-2, PIL's 'L')
 *   solarise:     v ≥ 128 → 255 − v
 * PIL rounds to uint8 after each op; we stay in float (§11.17).
 */
import { tf } from '../../backend/tf';

const LUMA = [0.299, 0.587, 0.114];

function perImage(f: ArrayLike<number>): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(f), [f.length, 1, 1, 1]);
}

/** Luma [n, H, W, 1] of an RGB or greyscale batch. */
export function luma(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    if (x.shape[3] === 1) return tf.clone(x);
    return tf.sum(tf.mul(x, tf.tensor1d(LUMA)), 3, true) as tf.Tensor4D;
  });
}

export function adjustBrightness(x: tf.Tensor4D, f: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(x, perImage(f)), 0, 255) as tf.Tensor4D);
}

export function adjustContrast(x: tf.Tensor4D, f: ArrayLike<number>): tf.Tensor4D {
  return tf.tidy(() => {
    // PIL: mean = int(mean(L) + 0.5), L itself rounded to uint8 (we keep L in float).
    const m = tf.floor(tf.add(tf.mean(luma(x), [1, 2, 3], true), 0.5));
    return tf.clipByValue(tf.add(m, tf.mul(perImage(f), tf.sub(x, m))), 0, 255) as tf.Tensor4D;
  });
}

export function adjustSaturation(x: tf.Tensor4D, f: ArrayLike<number>): tf.Tensor4D {
  if (x.shape[3] === 1) return tf.clone(x);
  return tf.tidy(() => {
    const l = luma(x);
    return tf.clipByValue(tf.add(l, tf.mul(perImage(f), tf.sub(x, l))), 0, 255) as tf.Tensor4D;
  });
}

/**
 * Hue rotation by δ (fraction of the circle). RGB → (H, max, max − min) and back with the
 * closed form channel_n = max − (max − min)·clip(min(k, 4 − k), 0, 1), k = (n + 6H) mod 6,
 * n = 5, 3, 1 for R, G, B; V and S are unchanged.
 */
export function adjustHue(x: tf.Tensor4D, delta: ArrayLike<number>): tf.Tensor4D {
  if (x.shape[3] === 1) return tf.clone(x);
  return tf.tidy(() => {
    const [r, g, b] = tf.split(x, 3, 3);
    const mx = tf.max(x, 3, true);
    const d = tf.sub(mx, tf.min(x, 3, true));
    const safe = tf.where(tf.greater(d, 0), d, tf.onesLike(d));
    const hr = tf.div(tf.sub(g, b), safe);
    const hg = tf.add(tf.div(tf.sub(b, r), safe), 2);
    const hb = tf.add(tf.div(tf.sub(r, g), safe), 4);
    const h6 = tf.where(tf.equal(mx, r), hr, tf.where(tf.equal(mx, g), hg, hb));
    // Rotated hue in sixths of the circle, in [0, 6).
    const h = tf.mod(tf.add(h6, perImage(Array.from(delta, (v) => 6 * v))), 6);
    const channel = (n: number) => {
      const k = tf.mod(tf.add(h, n), 6);
      return tf.sub(mx, tf.mul(d, tf.clipByValue(tf.minimum(k, tf.sub(4, k)), 0, 1)));
    };
    return tf.concat([channel(5), channel(3), channel(1)], 3) as tf.Tensor4D;
  });
}

/** Greyscale for the images where `mask[i]` (luma replicated to all channels). */
export function grayscaleWhere(x: tf.Tensor4D, mask: ArrayLike<boolean>): tf.Tensor4D {
  if (x.shape[3] === 1 || !Array.from(mask).some(Boolean)) return tf.clone(x);
  return tf.tidy(() => {
    const l = tf.broadcastTo(luma(x), x.shape);
    return tf.where(maskTensor(mask), l, x) as tf.Tensor4D;
  });
}

/** Solarisation (v ≥ 128 → 255 − v) for the images where `mask[i]`. */
export function solarizeWhere(x: tf.Tensor4D, mask: ArrayLike<boolean>): tf.Tensor4D {
  if (!Array.from(mask).some(Boolean)) return tf.clone(x);
  return tf.tidy(() => {
    const sol = tf.where(tf.greaterEqual(x, 128), tf.sub(255, x), x);
    return tf.where(maskTensor(mask), sol, x) as tf.Tensor4D;
  });
}

/** A [n, 1, 1, 1] boolean tensor broadcast against images. */
function maskTensor(mask: ArrayLike<boolean>): tf.Tensor {
  return tf.tensor4d(
    Uint8Array.from(mask, (m) => (m ? 1 : 0)),
    [mask.length, 1, 1, 1],
    'bool',
  );
}
