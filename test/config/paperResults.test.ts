import { describe, expect, it } from 'vitest';
import {
  OFFICIAL_CHECKPOINTS,
  PAPER_IMAGENET_RESULTS,
  PAPER_LINEAR_LOG,
} from '../../src/config/paperResults';

describe('paper results (§8, §10.1)', () => {
  it('holds the readme numbers as published', () => {
    expect(
      PAPER_IMAGENET_RESULTS.map((r) => [r.epochs, r.multiCrop, r.linearTop1, r.knnTop1]),
    ).toEqual([
      [100, '2x224 + 6x96', 72.5, 63.5],
      [200, '2x224 + 6x96', 74.2, 66.5],
      [400, '2x224', 73.0, 67.6],
      [400, '2x224 + 6x96', 75.3, 67.7],
    ]);
    expect(PAPER_LINEAR_LOG.best).toEqual({ epoch: 94, top1: 75.006, top5: 92.062 });
    const curve = PAPER_LINEAR_LOG.curve.map((p) => p.top1);
    expect([...curve].sort((a, b) => a - b)).toEqual(curve); // best-so-far: non-decreasing
  });

  it('names checkpoints as the scripts do: <folder>/checkpoint<epochs-1>.pth', () => {
    for (const c of OFFICIAL_CHECKPOINTS) {
      expect(c.file).toMatch(
        new RegExp(`/checkpoint${String(c.epochs - 1).padStart(4, '0')}\\.pth$`),
      );
    }
    expect(OFFICIAL_CHECKPOINTS.map((c) => c.file)).toContain('carp-400ep-mc/checkpoint0399.pth');
  });
});
