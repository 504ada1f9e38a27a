/**
 * The §6 per-image operations on plain Float32Arrays (one HWC image in [0, 255]),
 * for the CPU engine of the multi-crop pipeline. Same formulas as the tensor versions
 * (cropResize.ts, color.ts, blur.ts), which the tests check against each other; see
 * those files for the PIL semantics.
 *
 * Why a second engine: on the wasm backend the per-image work maps badly to tensor ops
 * (batched matMul is a scalar loop there, each small op costs a dispatch), while a plain
 * loop over one image's pixels costs a few ns per pixel and no gather/scatter tricks for
 * per-image choices.
 */
import type { Coefficients } from '../resample';
import { gaussianKernel1d } from './blur';

/** Separable resampling of one image (columns, then rows), clipped to [0, 255] after each pass. */
export function resampleInto(
  src: ArrayLike<number>,
  srcOff: number,
  h: number,
  w: number,
  c: number,
  cy: Coefficients,
  cx: Coefficients,
  tmp: Float32Array,
  out: Float32Array,
): void {
  const ow = cx.outSize;
  const oh = cy.outSize;
  // Only the source rows some output row reads (the crop's rows) need the first pass.
  let y0 = h;
  let y1 = 0;
  for (let y = 0; y < oh; y++) {
    y0 = Math.min(y0, cy.start[y]);
    y1 = Math.max(y1, cy.start[y] + cy.len[y]);
  }
  for (let y = y0; y < y1; y++) {
    const row = srcOff + y * w * c;
    for (let x = 0; x < ow; x++) {
      const s = cx.start[x];
      const n = cx.len[x];
      const wo = x * cx.maxLen;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += cx.weights[wo + k] * src[row + (s + k) * c + ch];
        tmp[(y * ow + x) * c + ch] = acc < 0 ? 0 : acc > 255 ? 255 : acc;
      }
    }
  }
  const stride = ow * c;
  for (let y = 0; y < oh; y++) {
    const s = cy.start[y];
    const n = cy.len[y];
    const wo = y * cy.maxLen;
    const o = y * stride;
    for (let j = 0; j < stride; j++) out[o + j] = 0;
    for (let k = 0; k < n; k++) {
      const wk = cy.weights[wo + k];
      const r = (s + k) * stride;
      for (let j = 0; j < stride; j++) out[o + j] += wk * tmp[r + j];
    }
    for (let j = 0; j < stride; j++) {
      const v = out[o + j];
      out[o + j] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
const lumaAt = (x: Float32Array, i: number, c: number) =>
  c === 1 ? x[i] : 0.299 * x[i] + 0.587 * x[i + 1] + 0.114 * x[i + 2];

export function brightnessCpu(x: Float32Array, c: number, f: number): void {
  for (let i = 0; i < x.length; i++) x[i] = clip(x[i] * f);
}

export function contrastCpu(x: Float32Array, c: number, f: number): void {
  let s = 0;
  for (let i = 0; i < x.length; i += c) s += lumaAt(x, i, c);
  const m = Math.floor(s / (x.length / c) + 0.5);
  for (let i = 0; i < x.length; i++) x[i] = clip(m + f * (x[i] - m));
}

export function saturationCpu(x: Float32Array, c: number, f: number): void {
  if (c === 1) return;
  for (let i = 0; i < x.length; i += 3) {
    const l = lumaAt(x, i, 3);
    for (let k = 0; k < 3; k++) x[i + k] = clip(l + f * (x[i + k] - l));
  }
}

export function hueCpu(x: Float32Array, c: number, delta: number): void {
  if (c === 1) return;
  const shift = 6 * delta;
  for (let i = 0; i < x.length; i += 3) {
    const r = x[i];
    const g = x[i + 1];
    const b = x[i + 2];
    const mx = Math.max(r, g, b);
    const d = mx - Math.min(r, g, b);
    const safe = d > 0 ? d : 1;
    const h6 = mx === r ? (g - b) / safe : mx === g ? (b - r) / safe + 2 : (r - g) / safe + 4;
    let h = (h6 + shift) % 6;
    if (h < 0) h += 6;
    for (let k = 0; k < 3; k++) {
      let kk = (5 - 2 * k + h) % 6; // n = 5, 3, 1 for R, G, B
      if (kk < 0) kk += 6;
      const t = Math.min(kk, 4 - kk);
      x[i + k] = mx - d * (t < 0 ? 0 : t > 1 ? 1 : t);
    }
  }
}

export function grayscaleCpu(x: Float32Array, c: number): void {
  if (c === 1) return;
  for (let i = 0; i < x.length; i += 3) {
    const l = lumaAt(x, i, 3);
    x[i] = x[i + 1] = x[i + 2] = l;
  }
}

export function solarizeCpu(x: Float32Array): void {
  for (let i = 0; i < x.length; i++) if (x[i] >= 128) x[i] = 255 - x[i];
}

/** Gaussian blur with edge replication (σ > 0), in place; `tmp` has x.length entries. */
export function blurCpu(
  x: Float32Array,
  h: number,
  w: number,
  c: number,
  sigma: number,
  tmp: Float32Array,
): void {
  const r = Math.ceil(3 * sigma);
  const k = gaussianKernel1d(sigma, r);
  // rows (vertical) into tmp, then columns back into x — the tensor version's order
  for (let y = 0; y < h; y++) {
    for (let j = 0; j < w * c; j++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) {
        const yy = y + t < 0 ? 0 : y + t >= h ? h - 1 : y + t;
        acc += k[t + r] * x[yy * w * c + j];
      }
      tmp[y * w * c + j] = acc;
    }
  }
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let xx = 0; xx < w; xx++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let t = -r; t <= r; t++) {
          const q = xx + t < 0 ? 0 : xx + t >= w ? w - 1 : xx + t;
          acc += k[t + r] * tmp[row + q * c + ch];
        }
        x[row + xx * c + ch] = acc;
      }
    }
  }
}
