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
    expect(valueAt(a, 'no.such.key')).toBeUndefined();
  });
});
