import { describe, expect, it } from 'vitest';
import { withEarlierLoss } from '../../src/config/earlierConfigs';
import { PAPER_DEFAULTS } from '../../src/config/schema';
import { validateConfig } from '../../src/config/validate';

describe('withEarlierLoss', () => {
  it('reads a config without a loss section as λ = 1, what such runs computed', () => {
    const { loss: _l, ...older } = structuredClone(PAPER_DEFAULTS);
    const read = withEarlierLoss(older) as typeof PAPER_DEFAULTS;
    expect(read.loss).toEqual({ regWeight: 1 });
    expect(validateConfig(read)).toEqual({ ...older, loss: { regWeight: 1 } });
    expect(older).not.toHaveProperty('loss'); // the input is not modified
  });

  it('keeps a config that has the section, and anything that is not a config', () => {
    const off = { ...structuredClone(PAPER_DEFAULTS), loss: { regWeight: 0 } };
    expect(withEarlierLoss(off)).toBe(off);
    // A malformed section is left for validation to name.
    expect(() => validateConfig(withEarlierLoss({ ...off, loss: {} }))).toThrow(
      /missing key 'loss.regWeight'/,
    );
    for (const v of [null, 3, 'x', [1]]) expect(withEarlierLoss(v)).toBe(v);
  });
});
