import { describe, expect, it } from 'vitest';
import { loadFashionMnist } from '../../../src/data/fashionMnist';
import { pixelFeatures } from '../../../src/eval/extractors';
import {
  buildFewShotProxy,
  FMNIST_FEWSHOT_PROXY,
  plusMinusOneHot,
} from '../../../src/data/proxies/fewShotProxy';
import { fewShotProxyFromFeatures } from '../../../src/eval/deprecated';
import { fewShotProxyEvaluation } from '../../../src/eval/protocols/fewShotVoc';
import { oracleFeatures, pooledPixels } from './helpers';

describe('fmnist-fewshot-proxy (§9.5 on Fashion-MNIST)', () => {
  const train = loadFashionMnist('train', { limit: 1000 });
  const test = loadFashionMnist('test', { limit: 300 });

  it('turns class indices into VOC-style one-hot ±1 rows', () => {
    expect(Array.from(plusMinusOneHot([2, 0], 3))).toEqual([-1, -1, 1, 1, -1, -1]);
  });

  it('builds a seeded class-balanced pool and test subset (deterministic, no model)', () => {
    const a = buildFewShotProxy(train, test, { poolPerClass: 4, testCount: 50, seed: 3 });
    expect(a.train.count).toBe(40);
    expect(a.test.count).toBe(50);
    expect(a.numClasses).toBe(10);
    const perClass = new Array(10).fill(0);
    a.train.labels.forEach((y) => perClass[y]++);
    expect(perClass).toEqual(new Array(10).fill(4));
    // Rows keep the source split's pixels and labels, in ascending index order.
    const i = a.trainIndices[7];
    expect(a.train.labels[7]).toBe(train.labels[i]);
    expect(Array.from(a.train.images.subarray(7 * 784, 8 * 784))).toEqual(
      Array.from(train.images.subarray(i * 784, (i + 1) * 784)),
    );
    expect(Array.from(a.trainIndices)).toEqual(Array.from(a.trainIndices).sort((x, y) => x - y));
    expect(a.train.name).toBe(FMNIST_FEWSHOT_PROXY);
    const b = buildFewShotProxy(train, test, { poolPerClass: 4, testCount: 50, seed: 3 });
    expect(b.trainIndices).toEqual(a.trainIndices);
    expect(b.testIndices).toEqual(a.testIndices);
    const c = buildFewShotProxy(train, test, { poolPerClass: 4, testCount: 50, seed: 4 });
    expect(c.trainIndices).not.toEqual(a.trainIndices);
    expect(buildFewShotProxy(train, test, { poolPerClass: 1 }).test.count).toBe(300);
    expect(() => buildFewShotProxy(train, test, { testCount: 301 })).toThrow(
      /testCount must be in \[1, 300\]/,
    );
  });

  it('scores an oracle at mAP 1 for every k and keeps mean/std/runs as fractions', async () => {
    const sets = buildFewShotProxy(train, test, { poolPerClass: 3, testCount: 60 });
    const m = fewShotProxyFromFeatures(
      await oracleFeatures(sets.train),
      await oracleFeatures(sets.test),
      { numClasses: 10, shots: [1, 2], runs: 2 },
    );
    expect(Object.keys(m.lowShot!)).toEqual(['1', '2']);
    for (const k of ['1', '2']) {
      expect(m.lowShot![k].mAP).toBeCloseTo(1, 10);
      expect(m.lowShot![k].std).toBeCloseTo(0, 10);
      expect(m.lowShot![k].runs).toHaveLength(2);
    }
  });

  it('evaluates through an extractor callback (deterministic)', async () => {
    const o = { extract: pooledPixels, poolPerClass: 4, testCount: 100, shots: [1, 4], runs: 2 };
    const r = await fewShotProxyEvaluation(o);
    expect(r.sets.train.count).toBe(40);
    expect(r.sets.test.count).toBe(100);
    expect(r.dim).toBe(49);
    const m1 = r.metrics.lowShot!['1'].mAP;
    const m4 = r.metrics.lowShot!['4'].mAP;
    // Chance mAP ≈ 0.1; pixel features do better, more shots more so.
    expect(m1).toBeGreaterThan(0.2);
    expect(m4).toBeGreaterThan(m1);
    expect(m4).toBeLessThan(1);
    const again = await fewShotProxyEvaluation(o);
    expect(again.metrics).toEqual(r.metrics);
  });

  it('ignores the labels an extractor echoes back (uses the builder labels)', async () => {
    const lying = async (d: Parameters<typeof pixelFeatures>[0]) => ({
      ...(await pooledPixels(d)),
      labels: new Int32Array(d.count), // all class 0
    });
    const o = { poolPerClass: 3, testCount: 60, shots: [2], runs: 1 };
    const honest = await fewShotProxyEvaluation({ ...o, extract: pooledPixels });
    const lied = await fewShotProxyEvaluation({ ...o, extract: lying });
    expect(lied.metrics).toEqual(honest.metrics);
  });
});
