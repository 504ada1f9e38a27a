import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ABLATION_BASES,
  ablationCurves,
  ablationRunName,
  ablationTable,
  ablationsFor,
  runAblation,
  type AblationBase,
} from '../../src/experiments/ablations';
import { initTestBackend } from '../helpers/tensors';

describe('ablations', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('P, K and λ around the base; variants equal to the base share its run', () => {
    const base = ABLATION_BASES.ci;
    const [p, k, lambda] = ablationsFor(base);
    // fmnist-tiny: K = 64, P = 16.
    expect(p.variants.map((v) => v.overrides)).toEqual([
      ['model.partitionSize=4'],
      ['model.partitionSize=16'],
      ['model.partitionSize=64'],
    ]);
    expect(p.variants[2].label).toBe('P = 64 (= K, no partition)');
    expect(k.variants.map((v) => v.label)).toEqual(['K = 16', 'K = 64', 'K = 256']);
    expect(lambda.variants.map((v) => v.overrides)).toEqual([
      ['loss.regWeight=0'],
      ['loss.regWeight=1'],
    ]);
    const prefix = 'ablation-fmnist-tiny-lrRef4-momentumStart0.96-';
    expect(ablationRunName(base, ['model.partitionSize=16'])).toBe(`${prefix}base`);
    expect(ablationRunName(base, ['loss.regWeight=1'])).toBe(`${prefix}base`);
    expect(ablationRunName(base, ['loss.regWeight=0'])).toBe(`${prefix}regWeight0`);
    expect(ablationRunName(base, ['model.numPrototypes=256'])).toBe(`${prefix}numPrototypes256`);
  });

  it('trains each distinct variant once and measures k-NN, usage and the final loss terms', async () => {
    const base: AblationBase = {
      preset: 'fmnist-tiny',
      overrides: ['model.width=4', 'data.limit=64', 'train.epochs=1', 'train.accumulation=1'],
      evalLimit: 100,
    };
    const runsDir = mkdtempSync(join(tmpdir(), 'carp-ablation-'));
    const seen: string[] = [];
    const rows = await runAblation({
      base,
      runsDir,
      variants: [
        { label: 'λ = 0', overrides: ['loss.regWeight=0'] },
        { label: 'λ = 1', overrides: ['loss.regWeight=1'] },
        { label: 'P = 16', overrides: ['model.partitionSize=16'] },
      ],
      onRow: (r) => seen.push(r.label),
    });
    expect(seen).toEqual(['λ = 0', 'λ = 1', 'P = 16']);
    expect(rows[0].config.loss.regWeight).toBe(0);
    expect(rows[0].overrides).toEqual([...base.overrides, 'loss.regWeight=0']);
    // 64 images, batch 32, 1 epoch: 2 micro-steps, each logged.
    expect(rows[0].metrics).toHaveLength(2);
    expect(rows[0].trainSeconds).not.toBeNull();
    // λ = 1 is the base configuration: trained once, reused for P = 16 (the default P).
    expect(rows[1].runDir).toBe(rows[2].runDir);
    expect(rows[2].trainSeconds).toBeNull();
    expect(rows[2].knnTop1).toBe(rows[1].knnTop1);
    expect(rows[1].numPrototypes).toBe(64);
    expect(rows[1].prototypesUsed).toBeGreaterThanOrEqual(1);
    expect(rows[1].prototypesUsed).toBeLessThanOrEqual(64);
    expect(rows[1].lnP).toBeCloseTo(Math.log(16), 12);
    // The final terms are means of the logged rows (the last quarter, here the last one).
    expect(rows[1].final).toEqual({
      consistency: rows[1].metrics[1].consistency,
      regularizer: rows[1].metrics[1].entropy,
    });
    const table = ablationTable(rows);
    expect(table.header).toHaveLength(7);
    expect(table.rows[0][0]).toBe('λ = 0');
    expect(table.rows[0][1]).toBe(`${(100 * rows[0].knnTop1).toFixed(1)}%`);
    expect(table.rows[2][6]).toBe('reused');
    const fig = ablationCurves(rows, 'entropy');
    expect(fig.data.map((t) => t.name)).toEqual(['λ = 0', 'λ = 1', 'P = 16']);
    expect(fig.data[0].y).toEqual(rows[0].metrics.map((m) => m.entropy));
    expect(fig.data[0].x).toEqual([0, 1]);
  }, 300_000);
});
