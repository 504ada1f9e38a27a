import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  NOTEBOOK_CI_EVAL_LIMIT,
  NOTEBOOK_CI_PRESET,
  NOTEBOOK_PRESET,
  notebookContext,
} from '../../src/experiments/notebookContext';
import { Progress, setProgressStreams } from '../../src/util/progress';
import type { DisplayHost } from '../../src/viz/display';

function fakeHost(): DisplayHost & { handles: string[][] } {
  const handles: string[][] = [];
  return {
    handles,
    display: { html: () => {} },
    newDisplay() {
      const updates: string[] = [];
      handles.push(updates);
      return { html: (s) => updates.push(s) };
    },
  };
}

describe('notebookContext', () => {
  it('the CI preset: subsets, run paths, sizes from the dataset, progress in the notebook', async () => {
    const host = fakeHost();
    const runsDir = mkdtempSync(join(tmpdir(), 'carp-nbctx-'));
    try {
      const nb = await notebookContext({ preset: NOTEBOOK_CI_PRESET, runsDir, host });
      expect(nb.preset).toBe('fmnist-tiny');
      expect(nb.ci).toBe(true);
      expect(nb.config.preset).toBe('fmnist-tiny');
      expect(nb.evalLimit).toBe(NOTEBOOK_CI_EVAL_LIMIT);
      expect(nb.runDir).toBe(join(runsDir, 'notebooks-fmnist-tiny'));
      expect(nb.runPath('ablation-p8')).toBe(join(runsDir, 'ablation-p8'));
      expect(nb.sized('ci', 'full')).toBe('ci');
      expect(nb.describe()).toMatch(
        /^preset fmnist-tiny \(CI\), backend \w+, run .*notebooks-fmnist-tiny, evaluations on 512 images per split$/,
      );
      const sizes = await nb.sizes();
      // Fashion-MNIST: 60 000 training and 10 000 test images.
      expect(sizes.splits).toEqual({
        bank: 'train',
        query: 'test',
        bankCount: 60000,
        queryCount: 10000,
      });
      expect(sizes.evaluated).toEqual({ bank: 512, query: 512 });
      expect(sizes.training).toBe(nb.config.data.limit ?? 60000);
      // The evaluated query images: the protocols' seeded subset of 512, with their labels.
      const queries = await nb.evalImages('query');
      expect([queries.split, queries.count, queries.images.length]).toEqual([
        'test',
        512,
        512 * 784,
      ]);
      expect(new Set(queries.labels).size).toBe(10);
      // Progress goes to one display of its own, not to stderr.
      new Progress({ total: 2, label: 'steps', itemsPerStep: 1 }).update(2);
      expect(host.handles).toHaveLength(1);
      expect(host.handles[0][0]).toContain('<progress value="2" max="2"');
    } finally {
      setProgressStreams(undefined);
    }
  });

  it('the default preset evaluates every image (the standard protocols)', async () => {
    const nb = await notebookContext({ preset: NOTEBOOK_PRESET, progress: false });
    expect(nb.ci).toBe(false);
    expect(nb.evalLimit).toBeNull();
    expect(nb.sized('ci', 'full')).toBe('full');
    expect(nb.runDir).toBe(join('..', 'runs', 'notebooks-fmnist-small'));
    expect((await nb.sizes()).evaluated).toEqual({ bank: 60000, query: 10000 });
  });
});
