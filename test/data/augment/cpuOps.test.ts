/**
 * The CPU engine's per-image operations (src/data/augment/cpuOps.ts) on tiny images in
 * [0, 255], every expected value worked by hand from the PIL formulas.
 */
import { describe, expect, it } from 'vitest';
import {
  blurCpu,
  brightnessCpu,
  contrastCpu,
  grayscaleCpu,
  hueCpu,
  resampleInto,
  saturationCpu,
  solarizeCpu,
} from '../../../src/data/augment/cpuOps';
import { pilCoefficients } from '../../../src/data/resample';

const f32 = (v: number[]) => Float32Array.from(v);

describe('resampleInto', () => {
  it('box filter 1×4 → 1×2 averages pixel pairs; the source offset selects the image', () => {
    const src = [9, 9, 9, 9, 0, 100, 200, 40]; // two 1×4 grey images; the second is read
    const cy = pilCoefficients(1, 1, 'box');
    const cx = pilCoefficients(4, 2, 'box');
    const out = new Float32Array(2);
    resampleInto(src, 4, 1, 4, 1, cy, cx, new Float32Array(4), out);
    expect(Array.from(out)).toEqual([50, 120]);
  });

  it('a crop (rows 1–2 of 3) resized 2 → 1: only those rows are read', () => {
    // 3×1 grey column [10, 30, 70]; rows [1, 3) averaged → 50.
    const cy = pilCoefficients(3, 1, 'box', 1, 3, 1, 3);
    const cx = pilCoefficients(1, 1, 'box');
    const out = new Float32Array(1);
    resampleInto([10, 30, 70], 0, 3, 1, 1, cy, cx, new Float32Array(3), out);
    expect(Array.from(out)).toEqual([50]);
  });

  it('bicubic overshoot at a step edge is clipped to [0, 255]', () => {
    const cx = pilCoefficients(4, 8, 'bicubic');
    const cy = pilCoefficients(1, 1, 'box');
    const out = new Float32Array(8);
    resampleInto([0, 0, 255, 255], 0, 1, 4, 1, cy, cx, new Float32Array(8), out);
    expect([out[0], out[7], Math.min(...out), Math.max(...out)]).toEqual([0, 255, 0, 255]);
  });
});

describe('colour operations', () => {
  it('brightness multiplies and clips', () => {
    const x = f32([100, 200, 0]);
    brightnessCpu(x, 1, 1.5);
    expect(Array.from(x)).toEqual([150, 255, 0]);
  });

  it('contrast blends with the rounded mean luma: grey [0, 100], factor ½ → mean 50', () => {
    const x = f32([0, 100]);
    contrastCpu(x, 1, 0.5);
    expect(Array.from(x)).toEqual([25, 75]);
  });

  it('contrast 0 on RGB: every value the mean luma, round(0.299·255 / 2) = 38', () => {
    const x = f32([255, 0, 0, 0, 0, 0]);
    contrastCpu(x, 3, 0);
    expect(Array.from(x)).toEqual([38, 38, 38, 38, 38, 38]);
  });

  it('saturation 0 and greyscale give the pixel luma 0.299R + 0.587G + 0.114B; one channel unchanged', () => {
    // 0.299·100 + 0.587·50 + 0.114·200 = 29.9 + 29.35 + 22.8 = 82.05
    const a = f32([100, 50, 200]);
    saturationCpu(a, 3, 0);
    const b = f32([100, 50, 200]);
    grayscaleCpu(b, 3);
    for (const x of [a, b]) for (const v of x) expect(v).toBeCloseTo(82.05, 4);
    const grey = f32([100, 50]);
    saturationCpu(grey, 1, 0);
    grayscaleCpu(grey, 1);
    expect(Array.from(grey)).toEqual([100, 50]);
  });

  it('saturation 2 doubles the distance from the luma, clipped', () => {
    // luma of (100, 100, 160) = 29.9 + 58.7 + 18.24 = 106.84
    const x = f32([100, 100, 160]);
    saturationCpu(x, 3, 2);
    expect(x[0]).toBeCloseTo(93.16, 3);
    expect(x[2]).toBeCloseTo(213.16, 3);
  });

  it('hue ±1/3 of the circle turns red into green and blue; grey has no hue', () => {
    const x = f32([255, 0, 0, 255, 0, 0, 10, 10, 10]);
    hueCpu(x.subarray(0, 3), 3, 1 / 3);
    hueCpu(x.subarray(3, 6), 3, -1 / 3);
    hueCpu(x.subarray(6, 9), 3, 0.25);
    expect(Array.from(x)).toEqual([0, 255, 0, 0, 0, 255, 10, 10, 10]);
    const grey = f32([7]);
    hueCpu(grey, 1, 0.5);
    expect(Array.from(grey)).toEqual([7]);
  });

  it('solarize inverts values ≥ 128', () => {
    const x = f32([127, 128, 255, 0]);
    solarizeCpu(x);
    expect(Array.from(x)).toEqual([127, 127, 0, 0]);
  });
});

describe('blurCpu', () => {
  it('an impulse spreads into the normalised Gaussian taps (σ = ½: radius 2)', () => {
    // w(t) = exp(−2t²): 1, e^−2, e^−8 over a sum 1 + 2e^−2 + 2e^−8 = 1.2713405.
    const x = f32([0, 0, 255, 0, 0]);
    blurCpu(x, 1, 5, 1, 0.5, new Float32Array(5));
    const sum = 1 + 2 * Math.exp(-2) + 2 * Math.exp(-8);
    const taps = [Math.exp(-8), Math.exp(-2), 1, Math.exp(-2), Math.exp(-8)].map(
      (w) => (255 * w) / sum,
    );
    for (let i = 0; i < 5; i++) expect(x[i]).toBeCloseTo(taps[i], 3);
  });

  it('edges replicate: a constant image stays constant, in both directions and every channel', () => {
    const x = new Float32Array(3 * 4 * 2).fill(40);
    blurCpu(x, 3, 4, 2, 1.5, new Float32Array(x.length));
    for (const v of x) expect(v).toBeCloseTo(40, 4);
  });
});
