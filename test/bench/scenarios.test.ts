/**
 * The scenario list: unique ids, each with a description, and an unknown id refused
 * before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { runScenario, SCENARIOS } from '../../src/bench/scenarios';

describe('SCENARIOS', () => {
  it('has unique ids, the train-step, feature, augment, faiss and memory ones among them', () => {
    const ids = SCENARIOS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'train-step-cifar10-r18',
        'train-step-fmnist-small',
        'features-cifar10-r18',
        'augment',
        'knn',
        'kmeans',
        'memory',
      ]),
    );
    for (const s of SCENARIOS) expect(s.description.length, s.id).toBeGreaterThan(20);
  });

  it('refuses an unknown scenario', async () => {
    await expect(runScenario('nope')).rejects.toThrow(/unknown scenario 'nope'/);
  });
});
