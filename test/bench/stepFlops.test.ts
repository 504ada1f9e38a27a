/**
 * FLOP counts of the backbone and of a micro-step, on networks small enough to count by
 * hand: a conv of k×k, cin → cout on an out×out map costs 2·k²·cin·cout·out².
 */
import { describe, expect, it } from 'vitest';
import { backboneFlops, stepFlops } from '../../src/bench/stepFlops';
import type { CarpConfig } from '../../src/config/schema';
import type { CarpNetworkSpec } from '../../src/models/carpNetwork';
import type { ResNetSpec } from '../../src/models/resnet';

const basic = (layers: number[]): ResNetSpec => ({
  block: 'basic',
  layers,
  width: 1,
  cifarStem: true,
  inChannels: 1,
});

describe('backboneFlops', () => {
  it('counts a CIFAR-stem basic network', () => {
    // stem 3×3 1→1 on 2×2: 72; block: two 3×3 1→1 on 2×2: 144; no projection shortcut
    expect(backboneFlops(basic([1]), 2)).toBe(216);
    // stage 2 (stride 2, 1×1 map): 3×3 1→2: 36, 3×3 2→2: 72, 1×1 shortcut 1→2: 4
    expect(backboneFlops(basic([1, 1]), 2)).toBe(328);
  });

  it('counts an ImageNet-stem bottleneck network', () => {
    const spec: ResNetSpec = {
      block: 'bottleneck',
      layers: [1],
      width: 1,
      cifarStem: false,
      inChannels: 3,
    };
    // 4×4 → stem 7×7 stride 2, 3→1 on 2×2: 1176; max-pool → 1×1;
    // 1×1 1→1: 2, 3×3 1→1: 18, 1×1 1→4: 8, shortcut 1×1 1→4: 8
    expect(backboneFlops(spec, 4)).toBe(1212);
  });
});

describe('stepFlops', () => {
  it('is 3× the student forward on every view plus the teacher forward on the globals', () => {
    const spec = {
      backbone: basic([1]),
      head: { inDim: 1, hiddenDim: 2, bottleneckDim: 1, numPrototypes: 3 },
    } as CarpNetworkSpec;
    const crops = { globalSize: 2, localSize: 2, numLocal: 1 } as CarpConfig['crops'];
    // head row: 2·(1·2 + 2·2 + 2·1) + 2·1·3 = 22; one view: 216 + 22 = 238
    // globals 2·238 = 476, locals 238: 3·(476 + 238) + 476
    expect(stepFlops(spec, crops, 1)).toBe(2618);
    expect(stepFlops(spec, crops, 4)).toBe(4 * 2618);
  });
});
