/**
 * `subsetSource`: the one way to take rows of a source (evaluation subsets and `limit`ed
 * training sources alike), checked on a 1×1×1 dataset whose pixel value is its row.
 */
import { describe, expect, it } from 'vitest';
import { memorySource, subsetSource, type ImageSource } from '../../src/data/source';

/** Five 1×1 grey images with pixel = 10·row, two labels per row (row, 100+row). */
function fiveRows(): ImageSource {
  return memorySource({
    name: 'toy',
    split: 'train',
    count: 5,
    height: 1,
    width: 1,
    channels: 1,
    images: Uint8Array.from([0, 10, 20, 30, 40]),
    labels: Int32Array.from([0, 100, 1, 101, 2, 102, 3, 103, 4, 104]),
    labelDim: 2,
    classes: ['a', 'b', 'c', 'd', 'e'],
    names: ['r0.png', 'r1.png', 'r2.png', 'r3.png', 'r4.png'],
    preprocessing: 'shorter-256-centre-256-bicubic',
  });
}

describe('subsetSource', () => {
  it('keeps the rows in the order given: labels, names, images; the rest carried over', async () => {
    const s = subsetSource(fiveRows(), Int32Array.from([3, 0, 4]), 'pool');
    expect([s.name, s.split, s.count, s.labelDim]).toEqual(['toy', 'pool', 3, 2]);
    expect(Array.from(s.labels)).toEqual([3, 103, 0, 100, 4, 104]);
    expect(s.names).toEqual(['r3.png', 'r0.png', 'r4.png']);
    expect(s.preprocessing).toBe('shorter-256-centre-256-bicubic');
    expect(s.classes).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(s.subset).toBeUndefined();
    const out = new Uint8Array(3);
    await s.readImages([2, 0, 1], out);
    expect(Array.from(out)).toEqual([40, 30, 0]);
  });

  it('keeps the split by default and records how a limited subset was drawn', () => {
    const info = { count: 2, of: 5, seed: 7, rule: 'random' as const };
    const s = subsetSource(fiveRows(), Int32Array.from([1, 2]), undefined, info);
    expect(s.split).toBe('train');
    expect(s.subset).toEqual(info);
  });

  it('refuses rows outside the source, and reads outside the subset, naming both', async () => {
    expect(() => subsetSource(fiveRows(), Int32Array.from([0, 5]))).toThrow(
      'subsetSource(toy/train): row 5 outside [0, 5)',
    );
    const s = subsetSource(fiveRows(), Int32Array.from([1, 2]), 'pool');
    expect(() => s.readImages([2], new Uint8Array(1))).toThrow(
      'toy/pool subset: index 2 outside [0, 2)',
    );
  });
});
