import { describe, expect, it } from 'vitest';
import { prototypeUsage } from '../../../src/eval/math/prototypeUsage';

describe('prototype usage (§9.4)', () => {
  it('computes usage counts, unused prototypes and entropy by hand', () => {
    const u = prototypeUsage([0, 0, 2, 2], 4);
    expect(Array.from(u.counts)).toEqual([2, 0, 2, 0]);
    expect(u.used).toBe(2);
    expect(u.unused).toBe(2);
    expect(u.entropy).toBeCloseTo(Math.log(2), 12);
    expect(u.normalizedEntropy).toBeCloseTo(0.5, 12);
  });

  it('rejects assignments outside [0, K), naming the position', () => {
    expect(() => prototypeUsage([4], 4)).toThrow(/assignment 4 at 0 outside \[0, 4\)/);
    expect(() => prototypeUsage([0, 1.5], 4)).toThrow(/assignment 1.5 at 1 outside \[0, 4\)/);
  });
});
