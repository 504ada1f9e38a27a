/**
 * One multi-crop view of a batch on the CPU engine (plain loops, see cpuOps.ts): for each
 * image, crop + resize + flip → colour jitter in the image's order → greyscale → blur →
 * solarise → normalise, with the image's `ViewParams`. Output NHWC float32, normalised.
 */
import type { MultiCropConfig } from '../multiCropConfig';
import { pilCoefficients } from '../resample';
import type { ViewParams } from '../multiCropViews';
import {
  blurCpu,
  brightnessCpu,
  contrastCpu,
  grayscaleCpu,
  hueCpu,
  resampleInto,
  saturationCpu,
  solarizeCpu,
} from './cpuOps';

export function applyViewCpu(
  src: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  params: readonly ViewParams[],
  size: number,
  cfg: MultiCropConfig,
): Float32Array {
  const [b, h, w, cIn] = shape;
  if (params.length !== b)
    throw new Error(`applyViewCpu: ${params.length} parameter sets for a batch of ${b}`);
  const c = cfg.channels === 'rgb' && cIn === 1 ? 3 : cIn;
  const per = size * size * c;
  const out = new Float32Array(b * per);
  const tmp = new Float32Array(Math.max(h * size * cIn, per));
  const img = new Float32Array(size * size * cIn);
  const view = new Float32Array(per);
  const mean = Array.from({ length: c }, (_, k) => cfg.mean[cfg.mean.length === 1 ? 0 : k]);
  const std = Array.from({ length: c }, (_, k) => cfg.std[cfg.std.length === 1 ? 0 : k]);
  for (let i = 0; i < b; i++) {
    const p = params[i];
    const { top, left, height, width } = p.box;
    const cy = pilCoefficients(h, size, cfg.filter, top, top + height, top, top + height);
    const cx = pilCoefficients(w, size, cfg.filter, left, left + width, left, left + width);
    if (p.flip) mirror(cx);
    resampleInto(src, i * h * w * cIn, h, w, cIn, cy, cx, tmp, img);
    if (c === cIn) view.set(img);
    else
      for (let q = 0; q < size * size; q++)
        view[3 * q] = view[3 * q + 1] = view[3 * q + 2] = img[q];
    if (p.jitter.apply) {
      for (const op of p.jitter.order) {
        if (op === 0) brightnessCpu(view, c, p.jitter.brightness);
        else if (op === 1) contrastCpu(view, c, p.jitter.contrast);
        else if (op === 2) saturationCpu(view, c, p.jitter.saturation);
        else hueCpu(view, c, p.jitter.hue);
      }
    }
    if (p.gray) grayscaleCpu(view, c);
    if (p.sigma > 0) blurCpu(view, size, size, c, p.sigma, tmp);
    if (p.solarize) solarizeCpu(view);
    const o = i * per;
    for (let q = 0; q < per; q += c) {
      for (let k = 0; k < c; k++) out[o + q + k] = (view[q + k] / 255 - mean[k]) / std[k];
    }
  }
  return out;
}

/** Reverses the output order of a coefficient set in place (horizontal flip). */
function mirror(cf: {
  start: Int32Array;
  len: Int32Array;
  weights: Float64Array;
  maxLen: number;
  outSize: number;
}): void {
  const n = cf.outSize;
  const m = cf.maxLen;
  for (let i = 0, j = n - 1; i < j; i++, j--) {
    [cf.start[i], cf.start[j]] = [cf.start[j], cf.start[i]];
    [cf.len[i], cf.len[j]] = [cf.len[j], cf.len[i]];
    for (let k = 0; k < m; k++) {
      const t = cf.weights[i * m + k];
      cf.weights[i * m + k] = cf.weights[j * m + k];
      cf.weights[j * m + k] = t;
    }
  }
}
