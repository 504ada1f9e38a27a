import { describe, expect, it } from 'vitest';
import { createRng } from '../src/random';

describe('createRng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(0);
    const b = createRng(0);
    const c = createRng(1);
    const xa = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('restores a saved state exactly, including the cached normal', () => {
    const r = createRng(42);
    r.normal(); // leaves a spare normal cached
    const state = JSON.parse(JSON.stringify(r.getState()));
    const expected = [r.normal(), r.next(), r.int(1000)];
    const r2 = createRng(7);
    r2.setState(state);
    expect([r2.normal(), r2.next(), r2.int(1000)]).toEqual(expected);
  });

  it('draws uniform integers without bias and permutations that are permutations', () => {
    const r = createRng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400); // ~4.4 sigma
    const p = r.permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('gives normals with mean 0 and variance 1', () => {
    const r = createRng(5);
    let s = 0;
    let s2 = 0;
    const n = 40000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.025);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.04);
  });

  it('rejects bad arguments by name', () => {
    expect(() => createRng(1.5)).toThrow(/seed must be an integer/);
    expect(() => createRng(1).int(0)).toThrow(/n must be an integer/);
  });
});
