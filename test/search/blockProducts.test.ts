/**
 * Q·Bᵀ on both product engines against a hand-worked product, successive bank blocks
 * through one scratch buffer, the size checks, and no tensor left behind on tfjs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  blockProducts,
  defaultProductEngine,
  getProductThreads,
  type ProductEngine,
} from '../../src/search/blockProducts';
import { loadNative } from '../../src/backend/native/addon';
import { expectNoLeak, initTestBackend } from '../helpers/tensors';

beforeAll(async () => {
  await initTestBackend();
});

const Q = Float32Array.of(1, 2, 3, 4); // [[1,2],[3,4]]
const B = Float32Array.of(1, 0, 0, 1, 1, 1); // [[1,0],[0,1],[1,1]]

describe.each(['openblas', 'tfjs'] as ProductEngine[])('blockProducts (%s)', (engine) => {
  it('computes Q·Bᵀ, block after block, on the requested engine', async () => {
    expect(loadNative().addon, 'the native addon is built').not.toBeNull();
    const run = () => {
      const p = blockProducts(2, 2, 3, engine);
      expect(p.engine).toBe(engine);
      p.setQueries(Q, 2);
      // [[1·1+2·0, 1·0+2·1, 1+2], [3, 4, 7]]
      expect([...p.products(B, 3)]).toEqual([1, 2, 3, 3, 4, 7]);
      // one bank row [2,-1]: [[2-2], [6-4]]
      expect([...p.products(Float32Array.of(2, -1), 1)]).toEqual([0, 2]);
      // fewer queries than the block holds
      p.setQueries(Float32Array.of(0, 1), 1);
      expect([...p.products(B, 3)]).toEqual([0, 1, 1]);
      p.dispose();
    };
    if (engine === 'tfjs') await expectNoLeak(run);
    else run();
  });
});

describe('blockProducts', () => {
  it('refuses blocks larger than it was sized for (openblas) and products before queries (tfjs)', () => {
    const p = blockProducts(2, 1, 1, 'openblas');
    expect(() => p.setQueries(Q, 2)).toThrow('BlockProducts: 2 queries > 1');
    p.setQueries(Q, 1);
    expect(() => p.products(B, 3)).toThrow('BlockProducts: 3 rows > 1');
    p.dispose();
    const t = blockProducts(2, 1, 1, 'tfjs');
    expect(() => t.products(B, 1)).toThrow('BlockProducts: products() before setQueries()');
  });

  it('picks openblas when the addon loads, and reports its thread count', () => {
    expect(defaultProductEngine()).toBe('openblas');
    expect(blockProducts(2, 1, 1).engine).toBe('openblas');
    expect(getProductThreads()).toBe(loadNative().addon!.getThreads());
  });
});
