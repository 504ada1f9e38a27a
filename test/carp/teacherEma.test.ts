import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import { updateTeacher } from '../../src/carp/teacherEma';
import { createCarpParams } from '../../src/models/carpNetwork';
import { createRng } from '../../src/random';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';
import { tinyCarpSpec } from '../helpers/fixtures';

const spec = tinyCarpSpec(6);

function randomize(store: ReturnType<typeof createCarpParams>, seed: number): void {
  store.names().forEach((n, i) => {
    const v = store.get(n);
    if (v.dtype === 'float32')
      tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 1, 'float32', seed + i)));
  });
}

describe('updateTeacher (§2.4)', () => {
  beforeAll(async () => {
    await initTestBackend('cpu');
  });

  it('θ_T ← m·θ_T + (1−m)·θ_S on parameters (incl. BN affine and frozen g), never on buffers', async () => {
    const student = createCarpParams(spec, createRng(0), 'student');
    const teacher = createCarpParams(spec, createRng(1), 'teacher', false);
    randomize(student, 100);
    randomize(teacher, 5000);
    const before = new Map(
      teacher.names().map((n) => [n, Float32Array.from(teacher.get(n).dataSync())]),
    );
    const m = 0.9;
    await expectNoLeak(() => updateTeacher(teacher, student, m));
    const fm = Math.fround(m);
    const f1m = Math.fround(1 - m);
    for (const n of teacher.names()) {
      const got = teacher.get(n).dataSync();
      const t0 = before.get(n)!;
      if (teacher.kind(n) === 'buffer') {
        expect(Array.from(got), n).toEqual(Array.from(t0));
        continue;
      }
      const s = student.get(n).dataSync();
      const exp = Array.from(t0, (t, i) =>
        Math.fround(Math.fround(t * fm) + Math.fround(s[i] * f1m)),
      );
      expectClose(got, exp, { atol: 1e-7, rtol: 1e-7, label: n });
    }
    expect(teacher.parameterNames()).toContain('head.last_layer.weight_g');
    expect(teacher.parameterNames()).toContain('backbone.layer1.0.bn2.weight');
    student.dispose();
    teacher.dispose();
  });

  it('m = 1 keeps the teacher, m = 0 copies the student; gains stay 1', () => {
    const student = createCarpParams(spec, createRng(0), 'student');
    const teacher = createCarpParams(spec, createRng(1), 'teacher', false);
    const w0 = Array.from(teacher.get('backbone.conv1.weight').dataSync());
    updateTeacher(teacher, student, 1);
    expect(Array.from(teacher.get('backbone.conv1.weight').dataSync())).toEqual(w0);
    updateTeacher(teacher, student, 0);
    expect(Array.from(teacher.get('backbone.conv1.weight').dataSync())).toEqual(
      Array.from(student.get('backbone.conv1.weight').dataSync()),
    );
    updateTeacher(teacher, student, 0.99);
    expect(
      teacher
        .get('head.last_layer.weight_g')
        .dataSync()
        .every((g) => g === 1),
    ).toBe(true);
    student.dispose();
    teacher.dispose();
  });

  it('rejects a bad momentum or mismatched networks', () => {
    const student = createCarpParams(spec, createRng(0), 'student');
    const other = createCarpParams(
      { ...spec, head: { ...spec.head, numLayers: 2 } },
      createRng(0),
      'other',
    );
    expect(() => updateTeacher(student, student, 1.5)).toThrow(/momentum must be in \[0, 1\]/);
    expect(() => updateTeacher(other, student, 0.9)).toThrow(/parameter lists differ/);
    student.dispose();
    other.dispose();
  });
});
