import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('the public API (src/index.ts)', () => {
  it('still exports every name it exported before the evaluation redesign (renamed ones as deprecated aliases)', () => {
    const before = readFileSync(join(__dirname, 'fixtures', 'api', 'exports-2026-11.txt'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const missing = before.filter((name) => !(name in api));
    expect(missing).toEqual([]);
  });

  it('exports the contract names with their documented shapes', () => {
    for (const name of [
      'createRng',
      'samplePartition',
      'partitionProbabilities',
      'carpLoss',
      'carpLossFromLogits',
      'cosineSchedule',
      'LARS',
      'weightedKnn',
      'clusteringMetrics',
      'vocAveragePrecision',
      'revisitedMeanAP',
    ])
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
  });
});
