import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor2D, Tensor3D } from '../../src/backend/tf';
import { loadNative, setNativeThreads, threadsFromEnv } from '../../src/backend/native/addon';
import { CARP_LOSS } from '../../src/backend/native/carpLossKernel';
import { useNativeKernels } from '../../src/backend/wasmKernels';
import { blockPseudoLabelAccuracy, pseudoLabelAccuracy } from '../../src/carp/carpLoss';
import { carpLossFromLogits, hasFusedCarpLoss } from '../../src/carp/fusedCarpLoss';
import { partitionProbabilities, samplePartition } from '../../src/carp/randomPartition';
import { createRng } from '../../src/random';
import { loadGolden } from '../helpers/golden';
import { expectClose, expectNoLeak } from '../helpers/tensors';
import { useBackend } from './backends';

const available = loadNative().addon !== undefined;

interface LossCase {
  partitionSize: number;
  numCrops: number;
  studentLogits: number[][][];
  teacherLogits: number[][][];
  partitionIndices: number[];
  expected: { consistency: number; entropy: number; gradStudentLogits: number[][][] };
}

interface Result {
  terms: number[];
  grad: Float32Array;
  block0: Float32Array;
}

/** Terms, ∂(scale·total)/∂logits and the view-0 block-0 probabilities, on one path. */
function run(
  path: 'fused' | 'composed',
  logits: Tensor2D,
  teacherLogits: Tensor2D[],
  partition: Int32Array,
  p: number,
  views: number,
  regWeight = 1,
  scale = 1,
): Result {
  return tf.tidy(() => {
    const q = teacherLogits.map((t) => partitionProbabilities(t, partition, p));
    let terms: number[] = [];
    let block0: Float32Array = new Float32Array();
    const grad = tf.grad((x: tf.Tensor) => {
      const r = carpLossFromLogits(x as Tensor2D, q, partition, p, views, regWeight, path);
      terms = [r.consistency, r.entropy, r.total].map((t) => t.dataSync()[0]);
      block0 = r.studentBlock0.dataSync() as Float32Array;
      return tf.mul(r.total, scale);
    })(logits);
    return { terms, grad: grad.dataSync() as Float32Array, block0 };
  });
}

/** Random logits [V·B, K] and teacher logits 2 × [B, K] with a spread like a trained head's. */
function randomCase(v: number, b: number, k: number, seed: number, spread = 3) {
  const rng = createRng(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => (rng.next() * 2 - 1) * spread);
  return {
    logits: tf.tensor2d(fill(v * b * k), [v * b, k]),
    teacher: [tf.tensor2d(fill(b * k), [b, k]), tf.tensor2d(fill(b * k), [b, k])],
  };
}

function expectAgree(fused: Result, composed: Result, label: string): void {
  expectClose(fused.terms, composed.terms, { atol: 0, rtol: 1e-5, label: `${label} terms` });
  const big = composed.grad.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  expectClose(fused.grad, composed.grad, { atol: 1e-5 * big, rtol: 1e-4, label: `${label} grad` });
  expectClose(fused.block0, composed.block0, { atol: 1e-7, rtol: 1e-5, label: `${label} block 0` });
}

describe.runIf(available)('carpLossFromLogits, fused kernel', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    useNativeKernels(true);
  });
  afterAll(() => setNativeThreads(threadsFromEnv()));

  it('is one kernel on wasm with the addon', async () => {
    expect(hasFusedCarpLoss()).toBe(true);
    const { logits, teacher } = randomCase(3, 2, 12, 1);
    const pi = samplePartition(12, 4, createRng(2));
    const q = teacher.map((t) => partitionProbabilities(t, pi, 4));
    const info = await tf.profile(() => carpLossFromLogits(logits, q, pi, 4, 3).total);
    expect(info.kernelNames).toContain(CARP_LOSS);
    expect(info.kernelNames).not.toContain('Softmax');
    tf.dispose([info.result as tf.Tensor, logits, ...teacher, ...q]);
  });

  it('matches carp-loss.json (terms and student-logit gradients)', () => {
    for (const c of loadGolden<LossCase>('carp-loss.json').cases) {
      const partition = Int32Array.from(c.partitionIndices);
      const logits = tf.tensor2d(c.studentLogits.flat());
      const teacher = c.teacherLogits.map((t) => tf.tensor2d(t));
      const r = run('fused', logits, teacher, partition, c.partitionSize, c.numCrops);
      expectClose([r.terms[0]], [c.expected.consistency], { atol: 0, rtol: 1e-5, label: 'L_cons' });
      expectClose([r.terms[1]], [c.expected.entropy], { atol: 0, rtol: 1e-5, label: 'L_reg' });
      expectClose(r.grad, c.expected.gradStudentLogits.flat(2), {
        atol: 1e-6,
        rtol: 0,
        label: 'grad',
      });
      tf.dispose([logits, ...teacher]);
    }
  });

  it('agrees with the composed graph: locals, unused prototypes, P not a multiple of 16, λ ≠ 1, a scaled loss', () => {
    const cases = [
      // V, B, K, P, λ, upstream scale (1/A under accumulation)
      [6, 8, 100, 16, 1, 1],
      [2, 5, 70, 17, 0.5, 0.25],
      [4, 3, 64, 64, 0, 1],
      [3, 2, 6, 3, 1, 1],
    ] as const;
    for (const [i, [v, b, k, p, lambda, scale]] of cases.entries()) {
      const { logits, teacher } = randomCase(v, b, k, 10 + i);
      const pi = samplePartition(k, p, createRng(20 + i));
      const label = `V ${v} B ${b} K ${k} P ${p} λ ${lambda}`;
      expectAgree(
        run('fused', logits, teacher, pi, p, v, lambda, scale),
        run('composed', logits, teacher, pi, p, v, lambda, scale),
        label,
      );
      tf.dispose([logits, ...teacher]);
    }
  });

  it('passes no gradient where a clamp bites (s < ε: confident, disagreeing views), as the composed graph', () => {
    // Teacher sure of prototype 0, student view 0 sure of prototype 1: s ≈ e^-60 < ε.
    const k = 4;
    const pi = Int32Array.from([0, 1, 2, 3]);
    const logits = tf.tensor2d([
      [0, 60, 0, 0],
      [1, 0, 2, 0],
      [0, 0.5, 0, 1],
    ]);
    const teacher = [tf.tensor2d([[60, 0, 0, 0]]), tf.tensor2d([[0, 0, 1, 2]])];
    const fused = run('fused', logits, teacher, pi, k, 3);
    const composed = run('composed', logits, teacher, pi, k, 3);
    expectAgree(fused, composed, 'clamped');
    tf.dispose([logits, ...teacher]);
  });

  it('is bit-identical at 1 and 2 threads, and from run to run', () => {
    const { logits, teacher } = randomCase(6, 64, 512, 5);
    const pi = samplePartition(512, 128, createRng(6));
    setNativeThreads(1);
    const one = run('fused', logits, teacher, pi, 128, 6);
    setNativeThreads(2);
    const two = run('fused', logits, teacher, pi, 128, 6);
    const again = run('fused', logits, teacher, pi, 128, 6);
    for (const r of [two, again]) {
      expect(r.terms).toEqual(one.terms);
      expect(Buffer.from(r.grad.buffer).equals(Buffer.from(one.grad.buffer))).toBe(true);
    }
    tf.dispose([logits, ...teacher]);
  });

  it('leaves no tensor behind, with and without a gradient tape', async () => {
    const { logits, teacher } = randomCase(3, 4, 32, 7);
    const pi = samplePartition(32, 8, createRng(8));
    const q = teacher.map((t) => partitionProbabilities(t, pi, 8));
    await expectNoLeak(() => {
      const r = carpLossFromLogits(logits, q, pi, 8, 3);
      tf.dispose([r.consistency, r.entropy, r.total, r.studentBlock0]);
    });
    await expectNoLeak(() => {
      const g = tf.grad((x: tf.Tensor) => carpLossFromLogits(x as Tensor2D, q, pi, 8, 3).total)(
        logits,
      );
      g.dispose();
    });
    tf.dispose([logits, ...teacher, ...q]);
  });

  it('refuses teacher views of the wrong shape, naming the input', () => {
    const { logits, teacher } = randomCase(3, 4, 32, 9);
    const pi = samplePartition(32, 8, createRng(10));
    const q = teacher.map((t) => partitionProbabilities(t, pi, 8));
    const wrong = tf.zeros([4, 4, 7]) as Tensor3D;
    expect(() => carpLossFromLogits(logits, [q[0], wrong], pi, 8, 3)).toThrow(
      /CarpLoss: teacher1 has shape \[4,4,7\], expected \[4,4,8\]/,
    );
    expect(() => carpLossFromLogits(logits, q, pi, 8, 5)).toThrow(/not \[V·B, K\] for V = 5/);
    tf.dispose([logits, ...teacher, ...q, wrong]);
  });

  it('the addon refuses a bad partition or an offset outside the heap, naming it', () => {
    const addon = loadNative().addon!;
    const heap = new Uint8Array(4096);
    // V 2, B 1, K 4, P 2: one block of two prototypes.
    const call = (pi: number[], logitsOff = 0) =>
      addon.carpLoss(heap, logitsOff, 0, 0, Int32Array.from(pi), 2, 1, 4, 2, 1, 0, 0, 0);
    expect(() => call([1, 1])).toThrow(/carpLoss: a partition index appears twice/);
    expect(() => call([0, 4])).toThrow(/carpLoss: a partition index lies outside \[0, k\)/);
    expect(() => call([0, 1, 2])).toThrow(/an Int32Array of N_p·P indices/);
    expect(() => call([0, 1], 4096)).toThrow(/argument 1 .* lies outside the heap/);
  });

  it('block pseudo-label accuracy equals pseudoLabelAccuracy on the full views', async () => {
    const { logits, teacher } = randomCase(2, 16, 40, 11, 1);
    const pi = samplePartition(40, 10, createRng(12));
    const q = teacher.map((t) => partitionProbabilities(t, pi, 10));
    const probs = tf.split(logits, 2, 0).map((l) => partitionProbabilities(l as Tensor2D, pi, 10));
    const r = carpLossFromLogits(logits, q, pi, 10, 2);
    const a = await blockPseudoLabelAccuracy(r.studentBlock0, q[1]);
    const b = await pseudoLabelAccuracy(probs, q);
    expect(a).toEqual(b);
    tf.dispose([
      logits,
      ...teacher,
      ...q,
      ...probs,
      r.consistency,
      r.entropy,
      r.total,
      r.studentBlock0,
    ]);
  });

  it('takes the composed graph where the kernel is missing (native kernels off)', () => {
    useNativeKernels(false);
    try {
      expect(hasFusedCarpLoss()).toBe(false);
      const { logits, teacher } = randomCase(3, 2, 12, 13);
      const pi = samplePartition(12, 4, createRng(14));
      const q = teacher.map((t) => partitionProbabilities(t, pi, 4));
      const r = carpLossFromLogits(logits, q, pi, 4, 3);
      expect(r.total.dataSync()[0]).toBeCloseTo(
        r.consistency.dataSync()[0] + r.entropy.dataSync()[0],
        6,
      );
      expect(() => carpLossFromLogits(logits, q, pi, 4, 3, 1, 'fused')).toThrow(
        /no CarpLoss kernel on wasm/,
      );
      tf.dispose([logits, ...teacher, ...q, r.consistency, r.entropy, r.total, r.studentBlock0]);
    } finally {
      useNativeKernels(true);
    }
  });
});
