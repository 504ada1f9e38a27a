import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import type { Tensor4D } from '../../src/backend/tf';
import { samplePartition } from '../../src/carp/randomPartition';
import {
  CarpTrainState,
  isOptimizerStep,
  trainStep,
  type StepHyperParameters,
} from '../../src/carp/trainStep';
import { BatchNormUpdates } from '../../src/models/layers';
import { carpNetworkSpec, multiCropForward } from '../../src/models/carpNetwork';
import type { ParamStore } from '../../src/models/params';
import { resnetSpec } from '../../src/models/resnet';
import { createRng } from '../../src/random';
import { expectClose } from '../helpers/tensors';
import { useBackend } from './backends';

const spec = carpNetworkSpec(resnetSpec('resnet18', { width: 4, cifarStem: true, inChannels: 1 }), {
  hiddenDim: 16,
  bottleneckDim: 8,
  numPrototypes: 16,
  batchNorm: true,
  numLayers: 3,
});
const P = 4;

function makeViews(seed: number, b = 4): Tensor4D[] {
  return [8, 8, 4, 4].map(
    (s, i) => tf.randomNormal([b, s, s, 1], 0, 1, 'float32', seed * 10 + i) as Tensor4D,
  );
}

function newState(seed = 0): CarpTrainState {
  return CarpTrainState.create({ spec, partitionSize: P, rng: createRng(seed) });
}

function hp(o: Partial<StepHyperParameters> = {}): StepHyperParameters {
  return {
    step: 0,
    learningRate: 0.5,
    weightDecay: 1e-6,
    teacherMomentum: 0.99,
    accumulation: 1,
    optimizerStep: true,
    ...o,
  };
}

function snapshot(store: ParamStore): Map<string, Float32Array> {
  return new Map(store.names().map((n) => [n, Float32Array.from(store.get(n).dataSync())]));
}

describe('isOptimizerStep (§5.4)', () => {
  it('steps every A micro-steps and on the last micro-step of the epoch', () => {
    const steps = (A: number, I: number) =>
      Array.from({ length: I }, (_, i) => isOptimizerStep(i, A, I));
    expect(steps(1, 3)).toEqual([true, true, true]);
    expect(steps(2, 5)).toEqual([false, true, false, true, true]);
    expect(steps(4, 6)).toEqual([false, false, false, true, false, true]);
  });
});

describe('trainStep (wasm, the default backend)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('lowers the loss on a fixed batch and partition; tensor count stays flat', async () => {
    // η = 0.02 (paper 0.001) so a handful of steps move the near-uniform initial
    // assignments (L ≈ ln P at init) measurably.
    const state = CarpTrainState.create({ spec, partitionSize: P, rng: createRng(0), eta: 0.02 });
    const views = makeViews(1);
    const partition = samplePartition(16, P, createRng(9));
    const losses: number[] = [];
    const counts: number[] = [];
    for (let t = 0; t < 6; t++) {
      const r = await trainStep(state, views, hp({ step: t, learningRate: 1 }), partition);
      expect(r.step).toBe(t);
      expect(r.loss).toBeCloseTo(r.consistency + r.entropy, 5);
      // Pseudo-label top-1 (§7): the share of images whose student arg-max (view 0, block 0)
      // is the teacher's (view 1, block 0), recounted here from the two arg-max lists.
      const agree = r.studentArgmax.filter((a, i) => a === r.teacherArgmax[i]).length;
      expect(r.top1).toBe(agree / r.studentArgmax.length);
      expect(r.top5).toBeGreaterThanOrEqual(r.top1);
      expect(r.studentArgmax).toHaveLength(4);
      losses.push(r.loss);
      counts.push(tf.memory().numTensors);
    }
    expect(losses[0]).toBeCloseTo(Math.log(P), 2);
    for (let t = 1; t < 6; t++) expect(losses[t], `step ${t}`).toBeLessThan(losses[t - 1]);
    expect(losses[5]).toBeLessThan(losses[0] - 5e-4);
    // LARS creates its momentum buffers on the first step; nothing grows afterwards.
    expect(new Set(counts.slice(1)).size).toBe(1);
    tf.dispose(views);
    state.dispose();
  });

  it('EMA before the LARS step with the forward-time student; teacher BN from its own forward only', async () => {
    const state = newState(1);
    const views = makeViews(2);
    const partition = samplePartition(16, P, createRng(3));
    // Give the student distinctive buffers: they must not leak into the teacher.
    tf.tidy(() => state.student.get('backbone.bn1.running_mean').assign(tf.fill([4], 7)));
    await trainStep(state, views, hp({ step: 0, learningRate: 0.3 }), partition); // teacher ≠ student now
    const s0 = snapshot(state.student);
    const t0 = snapshot(state.teacher);
    // Reference for the teacher's buffers: a copy of the teacher doing its own forward.
    const ref = state.teacher.clone('ref', false);
    const upd = new BatchNormUpdates();
    tf.dispose(multiCropForward(ref, spec, views.slice(0, 2), { training: true, bnUpdates: upd }));
    upd.apply();
    const m = 0.9;
    await trainStep(
      state,
      views,
      hp({ step: 1, teacherMomentum: m, learningRate: 0.3 }),
      partition,
    );
    for (const n of state.teacher.names()) {
      const got = state.teacher.get(n).dataSync();
      if (state.teacher.kind(n) === 'buffer') {
        expect(Array.from(got), n).toEqual(Array.from(ref.get(n).dataSync()));
      } else {
        const s = s0.get(n)!;
        const exp = Array.from(t0.get(n)!, (t, i) =>
          Math.fround(Math.fround(t * Math.fround(m)) + Math.fround(s[i] * Math.fround(1 - m))),
        );
        expectClose(got, exp, { atol: 1e-7, rtol: 1e-6, label: n });
      }
    }
    // The student moved (LARS step) after the EMA read it.
    expect(Array.from(state.student.get('head.mlp.6.bias').dataSync())).not.toEqual(
      Array.from(s0.get('head.mlp.6.bias')!),
    );
    ref.dispose();
    tf.dispose(views);
    state.dispose();
  });

  it('accumulation: non-final micro-steps change only BN statistics; the step uses Σ grad(L/A)', async () => {
    const pA = samplePartition(16, P, createRng(11));
    const pB = samplePartition(16, P, createRng(12));
    const vA = makeViews(3);
    const vB = makeViews(4);
    const lr = 0.25;
    // X: A = 2 over (A, B). Y, Z: A = 1 on A alone / B alone, from the same start.
    const [x, y, z] = [newState(5), newState(5), newState(5)];
    const start = snapshot(x.student);
    const teacherStart = snapshot(x.teacher);
    await trainStep(
      x,
      vA,
      hp({ step: 0, accumulation: 2, optimizerStep: false, learningRate: lr }),
      pA,
    );
    for (const n of x.student.parameterNames()) {
      expect(Array.from(x.student.get(n).dataSync()), n).toEqual(Array.from(start.get(n)!));
      expect(Array.from(x.teacher.get(n).dataSync()), n).toEqual(Array.from(teacherStart.get(n)!));
    }
    expect(x.student.get('backbone.bn1.num_batches_tracked').dataSync()[0]).toBe(2); // two resolution groups
    expect(x.teacher.get('backbone.bn1.num_batches_tracked').dataSync()[0]).toBe(1);
    expect(x.gradients.count).toBe(1);
    await trainStep(
      x,
      vB,
      hp({ step: 1, accumulation: 2, optimizerStep: true, learningRate: lr }),
      pB,
    );
    expect(x.gradients.count).toBe(0);
    await trainStep(y, vA, hp({ step: 0, learningRate: lr }), pA);
    await trainStep(z, vB, hp({ step: 0, learningRate: lr }), pB);
    // For 1-D parameters LARS is plain SGD on a fresh momentum buffer: Δ = −lr·g, so
    // Δ_X = (Δ_Y + Δ_Z) / 2 exactly when X sums the gradients of L/2.
    let checked = 0;
    for (const n of x.student.names('trainable')) {
      if (x.student.get(n).rank !== 1) continue;
      const s = start.get(n)!;
      const dx = Array.from(x.student.get(n).dataSync(), (v, i) => v - s[i]);
      const dy = y.student.get(n).dataSync();
      const dz = z.student.get(n).dataSync();
      const exp = Array.from(s, (v, i) => (dy[i] - v + (dz[i] - v)) / 2);
      expectClose(dx, exp, { atol: 2e-6, rtol: 1e-3, label: n });
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    tf.dispose([...vA, ...vB]);
    [x, y, z].forEach((s) => s.dispose());
  });

  it('a non-finite loss aborts naming the micro-step, with nothing modified or leaked', async () => {
    const state = newState(2);
    const views = makeViews(5);
    await trainStep(state, views, hp({ step: 0 }));
    tf.tidy(() => state.student.get('head.mlp.6.bias').assign(tf.fill([8], NaN)));
    const before = snapshot(state.teacher);
    const studentBefore = snapshot(state.student);
    const n0 = tf.memory().numTensors;
    await expect(trainStep(state, views, hp({ step: 17 }))).rejects.toThrow(
      /non-finite loss at micro-step 17/,
    );
    expect(tf.memory().numTensors).toBe(n0);
    for (const n of state.teacher.names()) {
      expect(Array.from(state.teacher.get(n).dataSync()), n).toEqual(Array.from(before.get(n)!));
    }
    expect(Array.from(state.student.get('backbone.bn1.running_var').dataSync())).toEqual(
      Array.from(studentBefore.get('backbone.bn1.running_var')!),
    );
    tf.dispose(views);
    state.dispose();
  });

  it('regWeight λ weights L_reg in the step: λ = 0 logs L = L_cons and updates differently', async () => {
    const views = makeViews(7);
    const partition = samplePartition(16, P, createRng(23));
    const step = async (regWeight: number) => {
      const state = CarpTrainState.create({ spec, partitionSize: P, rng: createRng(5), regWeight });
      expect(state.regWeight).toBe(regWeight);
      const r = await trainStep(state, views, hp({ learningRate: 1 }), partition);
      const after = snapshot(state.student);
      state.dispose();
      return { r, after };
    };
    const one = await step(1);
    const off = await step(0);
    // Same initialisation and batch: the unweighted terms are the same numbers.
    expect([off.r.consistency, off.r.entropy]).toEqual([one.r.consistency, one.r.entropy]);
    expect(off.r.loss).toBe(off.r.consistency);
    expect(one.r.loss).toBeCloseTo(one.r.consistency + one.r.entropy, 6);
    expect(one.r.entropy).toBeGreaterThan(1e-6); // so the two totals really differ
    // …and the regulariser's gradient changed the update of the head's last layer.
    const moved = [...one.after].filter(([name, v]) =>
      v.some((x, i) => x !== off.after.get(name)![i]),
    );
    expect(moved.length).toBeGreaterThan(0);
    tf.dispose(views);
    expect(() =>
      CarpTrainState.create({ spec, partitionSize: P, rng: createRng(0), regWeight: -1 }),
    ).toThrow(/regWeight must be a finite number ≥ 0, got -1/);
  });

  it('rejects bad inputs and disposes everything it owns', async () => {
    const n0 = tf.memory().numTensors;
    const state = newState(3);
    const views = makeViews(6);
    await expect(trainStep(state, views.slice(0, 1), hp())).rejects.toThrow(
      /need the 2 global views/,
    );
    await expect(trainStep(state, views, hp({ accumulation: 0 }))).rejects.toThrow(/accumulation/);
    // A failure inside the forward leaves nothing behind either.
    const rgb = [tf.zeros([4, 8, 8, 3]), tf.zeros([4, 8, 8, 3])] as Tensor4D[];
    await expect(trainStep(state, rgb, hp())).rejects.toThrow(/\[N, H, W, 1\]/);
    tf.dispose(rgb);
    expect(() => CarpTrainState.create({ spec, partitionSize: 17, rng: createRng(0) })).toThrow(
      /partitionSize/,
    );
    tf.dispose(views);
    state.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});

describe('trainStep: wasm agrees with the cpu reference backend', () => {
  it('two micro-steps (A = 2) give the same losses, student, teacher and BN statistics', async () => {
    const partitions = [
      samplePartition(16, P, createRng(21)),
      samplePartition(16, P, createRng(22)),
    ];
    const run = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      const state = newState(7);
      const views = makeViews(8);
      const losses: number[] = [];
      for (const t of [0, 1]) {
        const r = await trainStep(
          state,
          views,
          hp({ step: t, accumulation: 2, optimizerStep: t === 1 }),
          partitions[t],
        );
        losses.push(r.loss);
      }
      const out = { losses, student: snapshot(state.student), teacher: snapshot(state.teacher) };
      tf.dispose(views);
      state.dispose();
      return out;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expectClose(wasm.losses, cpu.losses, { atol: 1e-5, rtol: 1e-5, label: 'losses' });
    for (const side of ['student', 'teacher'] as const) {
      for (const [n, v] of cpu[side]) {
        expectClose(wasm[side].get(n)!, v, { atol: 1e-5, rtol: 1e-3, label: `${side} ${n}` });
      }
    }
  });
});
