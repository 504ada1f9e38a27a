import { describe, expect, it } from 'vitest';
import { baseLayout, categoryColor, PALETTE, toArray } from '../../src/viz/figure';

describe('figure basics', () => {
  it('categoryColor cycles the palette, also for negative indices', () => {
    expect(categoryColor(0)).toBe('#1f77b4');
    expect(categoryColor(PALETTE.length)).toBe('#1f77b4');
    expect(categoryColor(-1)).toBe(PALETTE[PALETTE.length - 1]);
  });

  it('baseLayout: the title object, compact margins, height 400 unless given, width only when given', () => {
    expect(baseLayout('Loss')).toEqual({
      title: { text: 'Loss' },
      margin: { l: 60, r: 30, t: 50, b: 50 },
      height: 400,
    });
    expect(baseLayout('Loss', { title: 'Mine', height: 300, width: 500 })).toEqual({
      title: { text: 'Mine' },
      margin: { l: 60, r: 30, t: 50, b: 50 },
      height: 300,
      width: 500,
    });
  });

  it('toArray copies typed arrays into plain arrays', () => {
    const out = toArray(Float32Array.from([1.5, 2]));
    expect(Array.isArray(out)).toBe(true);
    expect(out).toEqual([1.5, 2]);
  });
});
