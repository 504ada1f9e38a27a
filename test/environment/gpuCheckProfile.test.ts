import { describe, expect, it } from 'vitest';
import { aggregateKernels } from '../../environment/gpu-check/src/profile';

describe('gpu-check aggregateKernels', () => {
  it('sums by name, shares of the step total, time then calls order, top N', () => {
    const agg = aggregateKernels(
      [
        { name: 'Conv2D', ms: 1 },
        { name: 'MatMul', ms: 3 },
        { name: 'Conv2D', ms: 2 },
        { name: 'Add', ms: null },
        { name: 'Add', ms: 0 },
      ],
      2,
    );
    // Conv2D 1+2 = 3 ms in 2 calls, MatMul 3 ms in 1 call (tie broken by calls), Add 0.
    expect(agg).toEqual({
      kernels: 5,
      totalMs: 6,
      distinct: 3,
      top: [
        { name: 'Conv2D', calls: 2, ms: 3, share: 0.5 },
        { name: 'MatMul', calls: 1, ms: 3, share: 0.5 },
      ],
    });
  });

  it('without timestamps orders by calls and reports zero shares', () => {
    const agg = aggregateKernels(
      [
        { name: 'Relu', ms: null },
        { name: 'Mul', ms: Number.NaN },
        { name: 'Mul', ms: null },
      ],
      15,
    );
    expect(agg).toEqual({
      kernels: 3,
      totalMs: 0,
      distinct: 2,
      top: [
        { name: 'Mul', calls: 2, ms: 0, share: 0 },
        { name: 'Relu', calls: 1, ms: 0, share: 0 },
      ],
    });
  });
});
