import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { svmDecision, trainLinearSvm } from '../../../src/eval/math/linearSvm';

interface Fixture {
  dim: number;
  trainFeatures: number[][];
  trainLabels: number[][];
  testFeatures: number[][];
  classes: { cls: number; coef: number[]; intercept: number; decision: number[] }[];
}
const fx = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'eval', 'linear-svm-sklearn.json'), 'utf8'),
) as Fixture;

describe('trainLinearSvm (liblinear L2R_L2LOSS_SVC_DUAL)', () => {
  it('matches scikit-learn LinearSVC with the VOC07 settings of spec §9.5', () => {
    const x = Float32Array.from(fx.trainFeatures.flat());
    const xt = Float32Array.from(fx.testFeatures.flat());
    for (const c of fx.classes) {
      const y = fx.trainLabels.map((row) => (row[c.cls] > 0 ? 1 : -1));
      const svm = trainLinearSvm(x, y, fx.dim, {
        C: 0.5,
        classWeight: { positive: 2, negative: 1 },
        tol: 1e-4,
        maxIter: 2000,
        interceptScaling: 1,
      });
      expect(svm.converged).toBe(true);
      // Same strictly convex optimum, both stopped at tolerance 1e-4: agree to ~1e-3.
      for (let j = 0; j < fx.dim; j++) expect(svm.weights[j]).toBeCloseTo(c.coef[j], 2);
      expect(svm.bias).toBeCloseTo(c.intercept, 2);
      const d = svmDecision(svm, xt, fx.dim);
      c.decision.forEach((v, i) => expect(Math.abs(d[i] - v)).toBeLessThan(5e-3));
    }
  });

  it('solves a hand-checkable 1-D problem', () => {
    // Points ±1 with labels ±1, no bias, C = 1: minimise ½w² + 2(1 − w)² ⇒ w = 4/5.
    const svm = trainLinearSvm(Float32Array.from([1, -1]), [1, -1], 1, {
      C: 1,
      interceptScaling: 0,
      tol: 1e-10,
    });
    expect(svm.weights[0]).toBeCloseTo(0.8, 8);
    expect(svm.bias).toBe(0);
  });

  it('rejects bad inputs by name', () => {
    expect(() => trainLinearSvm(new Float32Array(5), [1, -1], 2, { C: 1 })).toThrow(/n·dim = 2·2/);
    expect(() => trainLinearSvm(new Float32Array(4), [1, -1], 2, { C: 0 })).toThrow(
      /C must be > 0/,
    );
  });
});
