/**
 * One multi-crop view on the CPU engine (src/data/augment/cpuView.ts): crop, resize, flip,
 * the colour steps and normalisation, on 2×2 images with hand-worked outputs.
 */
import { describe, expect, it } from 'vitest';
import { applyViewCpu } from '../../../src/data/augment/cpuView';
import { PAPER_MULTICROP, type MultiCropConfig } from '../../../src/data/multiCropConfig';
import type { ViewParams } from '../../../src/data/multiCropViews';

/** Box filter, normalisation to [−1, 1]: (v/255 − ½)/½. */
const CFG: MultiCropConfig = {
  ...PAPER_MULTICROP,
  filter: 'box',
  mean: [0.5],
  std: [0.5],
  channels: 'keep',
};

/** The whole 2×2 image, nothing else applied. */
function plain(over: Partial<ViewParams> = {}): ViewParams {
  return {
    box: { top: 0, left: 0, height: 2, width: 2 },
    flip: false,
    jitter: {
      apply: false,
      order: [0, 1, 2, 3],
      brightness: 1,
      contrast: 1,
      saturation: 1,
      hue: 0,
    },
    gray: false,
    sigma: 0,
    solarize: false,
    ...over,
  };
}

const norm = (v: number) => (v / 255 - 0.5) / 0.5;
const close = (actual: Float32Array, expected: number[]) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 5));
};

describe('applyViewCpu', () => {
  const two = [0, 255, 51, 204, 10, 20, 30, 40]; // two 2×2 grey images

  it('whole image, same size: the pixels normalised, image by image', () => {
    const out = applyViewCpu(two, [2, 2, 2, 1], [plain(), plain()], 2, CFG);
    close(out, two.map(norm));
  });

  it('a flip mirrors each row; a 1×2 crop resized to 2×2 repeats its row', () => {
    const out = applyViewCpu(
      two,
      [2, 2, 2, 1],
      [plain({ flip: true }), plain({ box: { top: 1, left: 0, height: 1, width: 2 } })],
      2,
      CFG,
    );
    close(out, [255, 0, 204, 51, 30, 40, 30, 40].map(norm));
  });

  it('solarize, then brightness ×2 in the jitter, then greyscale on an RGB image', () => {
    const rgb = [100, 50, 200, 0, 0, 0, 255, 255, 255, 10, 20, 30]; // one 2×2×3 image
    const sol = applyViewCpu(rgb, [1, 2, 2, 3], [plain({ solarize: true })], 2, CFG);
    close(sol, [100, 50, 55, 0, 0, 0, 0, 0, 0, 10, 20, 30].map(norm));
    const jitter = {
      apply: true,
      order: [0, 1, 2, 3],
      brightness: 2,
      contrast: 1,
      saturation: 1,
      hue: 0,
    };
    const bright = applyViewCpu(rgb, [1, 2, 2, 3], [plain({ jitter })], 2, CFG);
    close(bright, [200, 100, 255, 0, 0, 0, 255, 255, 255, 20, 40, 60].map(norm));
    const gray = applyViewCpu(rgb, [1, 2, 2, 3], [plain({ gray: true })], 2, CFG);
    // 0.299·100 + 0.587·50 + 0.114·200 = 82.05; white stays 255; 0.299·10 + 0.587·20 + 0.114·30 = 18.15
    close(gray, [82.05, 82.05, 82.05, 0, 0, 0, 255, 255, 255, 18.15, 18.15, 18.15].map(norm));
  });

  it("channels 'rgb' replicates a grey image to three channels, per-channel mean and std", () => {
    const cfg = { ...CFG, channels: 'rgb' as const, mean: [0, 0.5, 1], std: [1, 0.5, 0.25] };
    const out = applyViewCpu([255, 0, 0, 255], [1, 2, 2, 1], [plain()], 2, cfg);
    const px = (v: number) => [v / 255, (v / 255 - 0.5) / 0.5, (v / 255 - 1) / 0.25];
    close(out, [...px(255), ...px(0), ...px(0), ...px(255)]);
  });

  it('a blur with σ > 0 leaves a constant image constant', () => {
    const out = applyViewCpu([60, 60, 60, 60], [1, 2, 2, 1], [plain({ sigma: 1 })], 2, CFG);
    close(out, [60, 60, 60, 60].map(norm));
  });

  it('refuses a parameter count other than the batch size', () => {
    expect(() => applyViewCpu(two, [2, 2, 2, 1], [plain()], 2, CFG)).toThrow(
      'applyViewCpu: 1 parameter sets for a batch of 2',
    );
  });
});
