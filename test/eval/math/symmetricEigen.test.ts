import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/random';
import { symmetricEigen } from '../../../src/eval/math/symmetricEigen';

describe('symmetricEigen', () => {
  it('decomposes a hand 2×2 case', () => {
    // [[2, 1], [1, 2]]: eigenvalues 3 (vector (1,1)/√2) and 1 (vector (1,−1)/√2).
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[2]).toBeCloseTo(0.5, 12); // same sign: (1,1)
  });

  it('reconstructs A = V Λ Vᵀ with orthonormal V for a random matrix', () => {
    const n = 12;
    const rng = createRng(4);
    const b = Array.from({ length: n * n }, () => rng.normal());
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) a[i * n + j] += b[i * n + k] * b[j * n + k];
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rec = 0;
        let dot = 0;
        for (let k = 0; k < n; k++) {
          rec += vectors[i * n + k] * values[k] * vectors[j * n + k];
          dot += vectors[k * n + i] * vectors[k * n + j];
        }
        expect(rec).toBeCloseTo(a[i * n + j], 9);
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });
});
