import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import type { Tensor4D } from '../../../src/backend/tf';
import { copyDetectionEvaluation } from '../../../src/eval/math/copyDetection';
import { rankByCosine, retrievalEvaluation } from '../../../src/eval/math/ranking';
import { applyWhitening, learnWhitening } from '../../../src/eval/math/whitening';
import { multiScaleDescriptor } from '../../../src/eval/protocols/retrieval';
import { backboneFeatures, createCarpParams } from '../../../src/models/carpNetwork';
import { createRng } from '../../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../../helpers/tensors';
import { tinyCarpSpec } from '../../helpers/fixtures';

describe('retrieval (§9.7) and copy detection (§9.8)', () => {
  beforeAll(async () => {
    await initTestBackend('wasm');
  });

  it('ranks by cosine similarity (scale-invariant), full or top-k', () => {
    const db = Float32Array.from([1, 0, 0, 1, 10, 10]); // e1, e2, (1,1)·10
    const q = Float32Array.from([2, 0.1]);
    expect(rankByCosine(q, db, 2)).toEqual([[0, 2, 1]]);
    expect(rankByCosine(q, db, 2, 2)).toEqual([[0, 2]]);
  });

  it('scores Medium and Hard protocols with easy/hard/junk as the revisited benchmark', () => {
    // Database: 4 vectors in 2-D; one query close to item 0, then 1, then 2, then 3.
    const db = Float32Array.from([1, 0, 0.9, 0.3, 0.5, 0.8, -1, 0]);
    const q = Float32Array.from([1, 0.01]);
    const r = retrievalEvaluation({
      queryFeatures: q,
      databaseFeatures: db,
      dim: 2,
      groundTruth: [{ easy: [0], hard: [2], junk: [1] }],
    });
    // Medium: positives {0, 2}, junk {1}: adjusted ranks 0, 1 → AP 1.
    expect(r.medium.mAP).toBeCloseTo(1, 12);
    // Hard: positives {2}, junk {1, 0}: adjusted rank 0 → AP 1.
    expect(r.hard.mAP).toBeCloseTo(1, 12);
    const r2 = retrievalEvaluation({
      queryFeatures: q,
      databaseFeatures: db,
      dim: 2,
      groundTruth: [{ easy: [], hard: [3], junk: [] }],
    });
    // Hard positive at rank 3: AP = ½(0/3·… j=0: prec0 = 0/3 = 0, prec1 = 1/4) = 0.125.
    expect(r2.hard.mAP).toBeCloseTo(0.125, 12);
    expect(Number.isNaN(r2.medium.mAP)).toBe(false);
  });

  it('builds the multi-scale descriptor as the unit-norm mean of per-scale features', async () => {
    const spec = tinyCarpSpec(5);
    const params = createCarpParams(spec, createRng(0), 'retr-test');
    const rng = createRng(3);
    const x = tf.tensor4d(
      Float32Array.from({ length: 2 * 16 * 16 }, () => rng.normal()),
      [2, 16, 16, 1],
    );
    const single = await expectNoLeak(async () => {
      const d = multiScaleDescriptor(params, spec, x, [1]);
      const data = await d.data();
      d.dispose();
      return data;
    });
    const f = backboneFeatures(params, spec, x as Tensor4D, { training: false });
    const fn = tf.div(f, tf.norm(f, 'euclidean', 1, true));
    expectClose(single, await fn.data(), { atol: 1e-5 });
    const d3 = multiScaleDescriptor(params, spec, x);
    expect(d3.shape).toEqual([2, 16]);
    const norms = await tf.norm(d3, 'euclidean', 1).data();
    expectClose(norms, [1, 1], { atol: 1e-5 });
    tf.dispose([x, f, fn, d3]);
    params.dispose();
  });

  it('learns a whitening that decorrelates the (centred) whitening set', () => {
    const rng = createRng(5);
    const n = 400;
    const x = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const a = rng.normal();
      const b = rng.normal();
      x.set([a + 3, 0.5 * a + b, 2 * b - 1], i * 3);
    }
    const w = learnWhitening(x, 3);
    expect(w.eigenvalues[0]).toBeGreaterThanOrEqual(w.eigenvalues[2]);
    // With uncentred Σ = FᵀF/n (§9.8) the whitened centred data has covariance
    // diag(λ)^-½ Uᵀ (Σ − μμᵀ) U diag(λ)^-½: check P Σ Pᵀ = I, which holds exactly.
    const y = applyWhitening(x, { ...w, mean: new Float64Array(3) });
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let r = 0; r < n; r++) s += y[r * 3 + i] * y[r * 3 + j];
        expect(s / n).toBeCloseTo(i === j ? 1 : 0, 3);
      }
    }
  });

  it('scores copy detection over the top-k list, per block', () => {
    const db = Float32Array.from([1, 0, 0, 1, -1, 0]);
    const res = copyDetectionEvaluation({
      databaseFeatures: db,
      dim: 2,
      topK: 2,
      blocks: [
        {
          name: 'jpegqual/50',
          queryFeatures: Float32Array.from([0.9, 0.1, 0.1, 0.9]),
          positives: [[0], [1]],
        },
        // The positive (item 2) is not in the top 2 of [0, 1] → AP 0 for that query.
        { name: 'strong', queryFeatures: Float32Array.from([0.7, 0.6]), positives: [[2]] },
      ],
    });
    expect(res.blocks['jpegqual/50']).toBeCloseTo(1, 12);
    expect(res.blocks['strong']).toBe(0);
    expect(res.topK).toBe(2);
  });
});
