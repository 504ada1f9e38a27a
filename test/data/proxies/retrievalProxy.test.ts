import { describe, expect, it } from 'vitest';
import type { ImageDataset } from '../../../src/data/dataset';
import { loadFashionMnist } from '../../../src/data/fashionMnist';
import { pixelFeatures } from '../../../src/eval/extractors';
import {
  buildRetrievalProxy,
  FMNIST_JUNK_PAIRS,
  FMNIST_RETRIEVAL_PROXY,
} from '../../../src/data/proxies/retrievalProxy';
import { retrievalProxyEvaluation } from '../../../src/eval/protocols/retrieval';
import { oracleFeatures } from './helpers';

function cosine(d: ImageDataset, a: number, b: number): number {
  const per = d.height * d.width;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < per; i++) {
    const [x, y] = [d.images[a * per + i], d.images[b * per + i]];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('fmnist-retrieval-proxy (§9.7 on Fashion-MNIST test)', () => {
  const test = loadFashionMnist('test', { limit: 400 });

  it('works a hand case: halves by pixel cosine, lone positive is hard, sibling is junk', () => {
    // 1×2 images; classes a, b, c with junk pair (a, c). One query per class is drawn;
    // class b has a single image, so it is its own query and has no positives.
    const px = [
      [10, 0], // 0: a
      [10, 1], // 1: a  (cos to 0 or 2 high)
      [10, 2], // 2: a
      [0, 10], // 3: a  (far from the others)
      [5, 5], // 4: b
      [1, 1], // 5: c
      [2, 0], // 6: c
    ];
    const toy: ImageDataset = {
      name: 'toy',
      split: 'test',
      count: 7,
      height: 1,
      width: 2,
      channels: 1,
      images: Uint8Array.from(px.flat()),
      labels: Int32Array.from([0, 0, 0, 0, 1, 2, 2]),
      classes: ['a', 'b', 'c'],
    };
    const r = buildRetrievalProxy(toy, { queriesPerClass: 1, junkPairs: [[0, 2]] });
    expect(r.queryIndices).toHaveLength(3);
    expect(Array.from(r.queryIndices).map((i) => toy.labels[i])).toEqual([0, 1, 2]);
    expect(r.queryIndices[1]).toBe(4);
    const db = Array.from(r.databaseIndices);
    expect(db).toEqual(
      [0, 1, 2, 3, 4, 5, 6].filter((i) => !Array.from(r.queryIndices).includes(i)),
    );
    const pos = (i: number) => db.indexOf(i);
    // Query of class a: 3 positives → 1 easy (most similar), 2 hard.
    const qa = r.queryIndices[0];
    const others = [0, 1, 2, 3].filter((i) => i !== qa);
    const bySim = [...others].sort((x, y) => cosine(toy, qa, y) - cosine(toy, qa, x) || x - y);
    expect(r.groundTruth[0].easy).toEqual([pos(bySim[0])]);
    expect(r.groundTruth[0].hard).toEqual(
      bySim
        .slice(1)
        .map(pos)
        .sort((x, y) => x - y),
    );
    expect(r.groundTruth[0].junk).toEqual([5, 6].filter((i) => i !== r.queryIndices[2]).map(pos));
    // Class b: no positives, no junk.
    expect(r.groundTruth[1]).toEqual({ easy: [], hard: [], junk: [] });
    // Class c: its one remaining image is hard; all class-a database images are junk.
    const qc = r.queryIndices[2];
    expect(r.groundTruth[2].easy).toEqual([]);
    expect(r.groundTruth[2].hard).toEqual([pos(qc === 5 ? 6 : 5)]);
    expect(r.groundTruth[2].junk).toEqual(others.map(pos).sort((x, y) => x - y));
  });

  it('builds 7 queries per class, the rest as database, with consistent ground truth', () => {
    const r = buildRetrievalProxy(test);
    expect(r.queries.count).toBe(70);
    expect(r.database.count).toBe(330);
    expect(r.queries.name).toBe(FMNIST_RETRIEVAL_PROXY);
    const q = new Set(r.queryIndices);
    expect(Array.from(r.databaseIndices).some((i) => q.has(i))).toBe(false);
    const sibling = new Map(
      FMNIST_JUNK_PAIRS.flatMap(([a, b]) => [
        [a, b],
        [b, a],
      ]),
    );
    r.groundTruth.forEach((g, k) => {
      const qi = r.queryIndices[k];
      const c = test.labels[qi];
      expect(c).toBe(Math.floor(k / 7));
      const dbLabel = (p: number) => test.labels[r.databaseIndices[p]];
      const positives = [...g.easy, ...g.hard];
      expect(positives.length).toBe(
        Array.from(r.databaseIndices).filter((i) => test.labels[i] === c).length,
      );
      expect(positives.every((p) => dbLabel(p) === c)).toBe(true);
      expect(g.easy.length).toBe(Math.floor(positives.length / 2));
      const minEasy = Math.min(...g.easy.map((p) => cosine(test, qi, r.databaseIndices[p])));
      const maxHard = Math.max(...g.hard.map((p) => cosine(test, qi, r.databaseIndices[p])));
      expect(minEasy).toBeGreaterThanOrEqual(maxHard);
      const s = sibling.get(c);
      expect(g.junk.every((p) => dbLabel(p) === s)).toBe(true);
      if (s === undefined) expect(g.junk).toEqual([]);
    });
    const again = buildRetrievalProxy(test);
    expect(again.groundTruth).toEqual(r.groundTruth);
    expect(buildRetrievalProxy(test, { seed: 1 }).queryIndices).not.toEqual(r.queryIndices);
  });

  it('takes a seeded database subset and rejects bad options', () => {
    const r = buildRetrievalProxy(test, { queriesPerClass: 2, databaseCount: 50 });
    expect(r.database.count).toBe(50);
    expect(Array.from(r.databaseIndices)).toEqual(
      Array.from(r.databaseIndices).sort((a, b) => a - b),
    );
    expect(() => buildRetrievalProxy(test, { databaseCount: 0 })).toThrow(/databaseCount/);
    expect(() => buildRetrievalProxy(test, { junkPairs: [[3, 3]] })).toThrow(
      /junk pair \[3, 3\] is not two distinct classes/,
    );
  });

  it('an oracle scores 1 on Medium and Hard; raw pixels do worse on Hard than on Medium', async () => {
    const o = { test, queriesPerClass: 3 };
    const oracle = await retrievalProxyEvaluation({ ...o, extract: oracleFeatures });
    expect(oracle.medium.mAP).toBeCloseTo(1, 12);
    expect(oracle.hard.mAP).toBeCloseTo(1, 12);
    expect(oracle.sets.queries.name).toBe(FMNIST_RETRIEVAL_PROXY);
    expect([oracle.numQueries, oracle.databaseSize]).toEqual([30, 370]);
    const pixels = await retrievalProxyEvaluation({ ...o, extract: pixelFeatures });
    expect(pixels.medium.mAP).toBeGreaterThan(0.2);
    expect(pixels.medium.mAP).toBeLessThan(1);
    expect(pixels.hard.mAP).toBeLessThan(pixels.medium.mAP);
  });
});
