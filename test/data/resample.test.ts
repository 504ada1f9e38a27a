import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/backend/tf';
import {
  denseMatrix,
  pilCoefficients,
  resampleBatch,
  resampleImage,
  torchBilinearCoefficients,
  type ResampleFilter,
} from '../../src/data/resample';
import { expectClose, expectNoLeak, initTestBackend } from '../helpers/tensors';

/** Golden outputs of PIL 9.4 / torchvision 0.14 (fixtures/gen-pil-golden.py). */
interface Case {
  name: string;
  out: number[][][];
  filter?: ResampleFilter;
  size?: [number, number];
  [k: string]: unknown;
}
const golden = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'pil-golden.json'), 'utf8')) as {
  image: number[][][];
  cases: Case[];
};
const IMG = Uint8Array.from(golden.image.flat(2));
const flat = (c: Case) => c.out.flat(2);

beforeAll(() => initTestBackend('cpu'));

describe('PIL resampling weights', () => {
  it('reproduce PIL resize (bicubic, bilinear, lanczos; up and down) within one level', () => {
    const cases = golden.cases.filter((c) => c.name === 'resize');
    expect(cases.length).toBe(6);
    for (const c of cases) {
      const [oh, ow] = c.size!;
      const out = resampleImage(
        IMG,
        7,
        9,
        3,
        pilCoefficients(7, oh, c.filter!),
        pilCoefficients(9, ow, c.filter!),
      );
      // PIL rounds to uint8 between its two passes; we round once.
      expectClose(out, flat(c), { atol: 1.01, rtol: 0, label: `${c.filter} ${oh}x${ow}` });
    }
  });

  it('reproduce torchvision resized_crop (crop box, then bicubic)', () => {
    const c = golden.cases.find((x) => x.name === 'resized_crop')!;
    const { top, left, height, width } = c as unknown as Record<string, number>;
    const cy = pilCoefficients(7, 4, 'bicubic', top, top + height, top, top + height);
    const cx = pilCoefficients(9, 4, 'bicubic', left, left + width, left, left + width);
    expectClose(resampleImage(IMG, 7, 9, 3, cy, cx), flat(c), { atol: 1.01, rtol: 0 });
  });

  it('rows sum to one and torch bilinear matches hand-worked values', () => {
    const c = pilCoefficients(10, 3, 'bicubic');
    const m = denseMatrix(c);
    for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let j = 0; j < 10; j++) s += m[i * 10 + j];
      expect(s).toBeCloseTo(1, 6);
    }
    // scale 1/2 on 4 px: src = (x+0.5)·2 − 0.5 = 0.5, 2.5 → halfway between neighbours
    expect(Array.from(denseMatrix(torchBilinearCoefficients(4, 0.5)))).toEqual([
      0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5,
    ]);
    // scale 1/√2 on 3 px → floor(2.12) = 2 outputs; last source clamps at the border
    const t = torchBilinearCoefficients(3, Math.SQRT1_2);
    expect(t.outSize).toBe(2);
    expectClose(denseMatrix(t), [
      1 - (0.5 * Math.SQRT2 - 0.5),
      0.5 * Math.SQRT2 - 0.5,
      0,
      0,
      1 - (1.5 * Math.SQRT2 - 0.5 - 1),
      1.5 * Math.SQRT2 - 0.5 - 1,
    ]);
  });

  it('resampleBatch (shared and per-image matrices) equals the CPU path', async () => {
    await expectNoLeak(() => {
      const cy = pilCoefficients(7, 5, 'bicubic');
      const cx = pilCoefficients(9, 4, 'bicubic');
      const ref = resampleImage(IMG, 7, 9, 3, cy, cx);
      const x = tf.tensor4d(Float32Array.from([...IMG, ...IMG]), [2, 7, 9, 3]);
      const ry = tf.tensor2d(denseMatrix(cy), [5, 7]);
      const rx = tf.tensor2d(denseMatrix(cx), [4, 9]);
      const shared = resampleBatch(x, ry, rx, { clip: true });
      expect(shared.shape).toEqual([2, 5, 4, 3]);
      const sv = shared.dataSync();
      expectClose(
        Array.from(sv.subarray(0, 60), (v) => Math.min(255, Math.max(0, Math.round(v)))),
        ref,
        { atol: 1.01 },
      );
      // per image: image 1 mirrored horizontally
      const rxb = new Float32Array(2 * 4 * 9);
      denseMatrix(cx, rxb, 0);
      denseMatrix(cx, rxb, 36, true);
      const ryb = tf.stack([ry, ry]);
      const rxt = tf.tensor3d(rxb, [2, 4, 9]);
      const per = resampleBatch(x, ryb, rxt, { clip: true });
      const pv = per.arraySync() as number[][][][];
      const sh = shared.arraySync() as number[][][][];
      expectClose(pv[0].flat(2), sh[0].flat(2), { atol: 1e-3 });
      expectClose(pv[1].flat(2), sh[1].map((r) => [...r].reverse()).flat(2), { atol: 1e-3 });
      tf.dispose([x, ry, rx, shared, per, ryb, rxt]);
    });
  });
});
