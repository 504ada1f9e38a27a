import { describe, expect, it } from 'vitest';
import { firstConfigDifference, valueAt } from '../../src/config/difference';
import { resolveConfig } from '../../src/config/resolve';

describe('firstConfigDifference', () => {
  it('is null for equal configs and names the first differing dotted key', () => {
    const a = resolveConfig('fmnist-tiny');
    expect(firstConfigDifference(a, resolveConfig('fmnist-tiny'))).toBeNull();
    const b = resolveConfig('fmnist-tiny', ['optim.lrRef=0.1']);
    expect(firstConfigDifference(a, b)).toBe('optim.lrRef');
    expect(valueAt(b, 'optim.lrRef')).toBe(0.1);
    expect(
      firstConfigDifference(a, resolveConfig('fmnist-tiny', ['crops.globalScale=0.3,1'])),
    ).toBe('crops.globalScale');
    expect(firstConfigDifference({ x: 1 }, null)).toBe('(root)');
    expect(firstConfigDifference({ x: 1 }, { x: 1, y: 2 })).toBe('y');
    // Key order is not a difference (a config file written by hand, or by an older version).
    expect(
      firstConfigDifference({ x: 1, s: { a: 1, b: 2 } }, { s: { b: 2, a: 1 }, x: 1 }),
    ).toBeNull();
    expect(firstConfigDifference({ x: [1, 2] }, { x: [2, 1] })).toBe('x');
    expect(firstConfigDifference({ 0: 1 }, [1])).toBe('(root)');
    expect(valueAt(a, 'no.such.key')).toBeUndefined();
  });
});
