import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src/backend/tf';
import { loadNative } from '../../../src/backend/native/addon';
import { CARP_EMA_STEP, CARP_LARS_STEP } from '../../../src/backend/native/optimizerKernels';
import { useNativeKernels } from '../../../src/backend/wasmKernels';
import { updateTeacher } from '../../../src/carp/teacherEma';
import { ParamStore } from '../../../src/models/params';
import { LARS } from '../../../src/optim/lars';
import { createRng } from '../../../src/random';
import { expectClose, expectNoLeak } from '../../helpers/tensors';
import { initBothBackends } from '../compareBackends';

const available = loadNative().addon !== undefined;

/** Seeded values, some of them exactly 0 (a zero parameter has no trust ratio). */
function values(n: number, seed: number, zero = false): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (zero ? 0 : rng.normal()));
}

let counter = 0;
/** Three LARS steps on the same parameters and gradients, native kernels on or off. */
async function larsRun(native: boolean): Promise<Float32Array[]> {
  useNativeKernels(native);
  const shapes: [string, number[], boolean][] = [
    ['conv.weight', [3, 3, 4, 5], false], // trust ratio, weight decay
    ['bn.weight', [5], false], // 1-D: neither
    ['proto.weight_v', [7, 3], true], // all zero: trust ratio 1
    ['fc.bias', [9], false],
  ];
  const vars = shapes.map(([name, shape, zero], i) =>
    tf.variable(
      tf.tensor(values(tf.util.sizeFromShape(shape), i + 1, zero), shape),
      true,
      `opt_${counter++}/${name}`,
    ),
  );
  const opt = new LARS({ learningRate: 0.3, weightDecay: 1e-4, momentum: 0.9, eta: 0.02 });
  for (let s = 0; s < 3; s++) {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.tensor(values(v.size, 100 * s + i), v.shape)));
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }
  const out = vars.map((v) => v.dataSync() as Float32Array);
  const weights = await opt.getWeights();
  out.push(...weights.slice(1).map((w) => w.tensor.dataSync() as Float32Array));
  opt.dispose();
  tf.dispose(vars);
  useNativeKernels(true);
  return out;
}

describe.runIf(available)('optimiser kernels on the addon', () => {
  beforeAll(async () => {
    await initBothBackends();
    useNativeKernels(true);
  });

  it('LARS: parameters and momentum buffers match the tfjs ops after three steps (trust ratio, 1-D, zero tensor, decay)', async () => {
    const native = await larsRun(true);
    const ops = await larsRun(false);
    expect(native.length).toBe(8);
    // Only the norms' summation order differs (fixed blocks in double vs float32).
    native.forEach((a, i) =>
      expectClose(a, ops[i], { atol: 1e-6, rtol: 1e-5, label: `tensor ${i}` }),
    );
  });

  it('LARS is one kernel per parameter and leaves no tensor behind', async () => {
    const v = tf.variable(tf.ones([4, 4]), true, `opt_${counter++}/w`);
    const opt = new LARS({ learningRate: 0.1, weightDecay: 0.1 });
    const g = () => ({ [v.name]: tf.fill([4, 4], 0.5) });
    const warm = g();
    opt.applyGradients(warm); // creates the momentum buffer
    tf.dispose(Object.values(warm));
    const grads = g();
    const info = await tf.profile(() => opt.applyGradients(grads));
    expect(info.kernelNames.filter((k) => k !== 'Identity')).toEqual([CARP_LARS_STEP]);
    await expectNoLeak(() => opt.applyGradients(grads));
    tf.dispose([...Object.values(grads), v]);
    opt.dispose();
  });

  it('EMA: matches the tfjs ops (to a fused multiply-add), one kernel per parameter', async () => {
    const run = (native: boolean) => {
      useNativeKernels(native);
      const teacher = new ParamStore('t');
      const student = new ParamStore('s');
      for (const [i, shape] of [[3, 3, 2, 4], [17], [5, 2]].entries()) {
        teacher.add(`p${i}`, tf.tensor(values(tf.util.sizeFromShape(shape), i + 7), shape));
        student.add(`p${i}`, tf.tensor(values(tf.util.sizeFromShape(shape), i + 70), shape));
      }
      updateTeacher(teacher, student, 0.996);
      updateTeacher(teacher, student, 0.7);
      const out = teacher.parameterNames().map((n) => Array.from(teacher.get(n).dataSync()));
      teacher.dispose();
      student.dispose();
      useNativeKernels(true);
      return out;
    };
    const [native, ops] = [run(true), run(false)];
    native.forEach((a, i) => expectClose(a, ops[i], { atol: 1e-7, rtol: 1e-6, label: `p${i}` }));
    const t = new ParamStore('t2');
    const s = new ParamStore('s2');
    t.add('w', tf.zeros([6]));
    s.add('w', tf.ones([6]));
    const info = await tf.profile(() => updateTeacher(t, s, 0.5));
    expect(info.kernelNames).toEqual([CARP_EMA_STEP]);
    expectClose(t.get('w').dataSync(), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    await expectNoLeak(() => updateTeacher(t, s, 0.5));
    t.dispose();
    s.dispose();
  });

  it('refuses a gradient of another shape, naming it', () => {
    const [p, g, v] = [tf.zeros([3]), tf.zeros([4]), tf.zeros([3])];
    const attrs = { learningRate: 1, decay: 0, momentum: 0.9, eta: 0.001, trust: false };
    expect(() =>
      tf
        .engine()
        .runKernel(
          CARP_LARS_STEP,
          { param: p, grad: g, velocity: v },
          attrs as unknown as tf.NamedAttrMap,
        ),
    ).toThrow('CarpLarsStep: grad must be float32 [3] like the parameter, got float32 [4]');
    tf.dispose([p, g, v]);
  });
});
