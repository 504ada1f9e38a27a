import { describe, expect, it } from 'vitest';
import { cosineSchedule } from '../../src/optim/schedules';
import { loadGolden } from '../helpers/golden';
import { expectClose } from '../helpers/tensors';

interface ScheduleCase {
  base: number;
  final: number;
  epochs: number;
  itersPerEpoch: number;
  warmupEpochs: number;
  warmupStart: number;
  expected: number[];
}

describe('cosineSchedule', () => {
  it('matches cosine-schedule.json', () => {
    for (const c of loadGolden<ScheduleCase>('cosine-schedule.json').cases) {
      const s = cosineSchedule(c);
      expect(s).toBeInstanceOf(Float64Array);
      expectClose(s, c.expected, { atol: 1e-12, rtol: 1e-12 });
    }
  });

  it('reproduces the §5.3 examples', () => {
    const lr = { base: 7.2, final: 0.0048, epochs: 2, itersPerEpoch: 4 };
    expectClose(
      cosineSchedule(lr),
      [7.2, 6.92614901, 6.14628736, 4.97914192, 3.6024, 2.22565808, 1.05851264, 0.27865099],
    );
    expectClose(
      cosineSchedule({ ...lr, warmupEpochs: 1 }),
      [0, 2.4, 4.8, 7.2, 7.2, 6.14628736, 3.6024, 1.05851264],
    );
    expectClose(
      cosineSchedule({ base: 0.99, final: 1, epochs: 2, itersPerEpoch: 4 }),
      [0.99, 0.9903806, 0.99146447, 0.99308658, 0.995, 0.99691342, 0.99853553, 0.9996194],
    );
    // Constant weight decay (base = final).
    expect(
      Array.from(cosineSchedule({ base: 1e-6, final: 1e-6, epochs: 1, itersPerEpoch: 3 })),
    ).toEqual([1e-6, 1e-6, 1e-6]);
  });

  it('handles edge lengths: one warm-up step, warm-up over all epochs, warm-up start', () => {
    expect(
      Array.from(
        cosineSchedule({ base: 1, final: 0, epochs: 2, itersPerEpoch: 1, warmupEpochs: 1 }),
      ),
    ).toEqual([0, 1]);
    expect(
      Array.from(
        cosineSchedule({
          base: 1,
          final: 0,
          epochs: 1,
          itersPerEpoch: 3,
          warmupEpochs: 1,
          warmupStart: 0.4,
        }),
      ),
    ).toEqual([0.4, 0.7, 1]);
  });

  it('rejects bad options by name', () => {
    const o = { base: 1, final: 0, epochs: 2, itersPerEpoch: 3 };
    expect(() => cosineSchedule({ ...o, epochs: 0 })).toThrow(/epochs/);
    expect(() => cosineSchedule({ ...o, itersPerEpoch: 1.5 })).toThrow(/itersPerEpoch/);
    expect(() => cosineSchedule({ ...o, warmupEpochs: 3 })).toThrow(
      /warmupEpochs \(3\) exceeds epochs/,
    );
    expect(() => cosineSchedule({ ...o, base: NaN })).toThrow(/base/);
  });
});
