/**
 * `MaxPoolGrad` for the wasm backend, replacing the built-in one (architecture §7.4).
 *
 * The built-in (tfjs 4.22, `MaxPoolGrad.cc`) starts each window's maximum at
 * `std::numeric_limits<float>::min()`, the smallest *positive* float, and keeps the
 * *last* of equal values: a window whose values are all ≤ 0 (negative, or the zeros
 * after a ReLU) sends its gradient nowhere, and ties go to the last position where the
 * cpu backend (and TF) use the first. Both are reproduced in test/backend/gradients.test.ts.
 *
 * Rule here (the cpu backend's `maxPoolPositions`): each window sends its `dy` to the
 * first in-bounds position, in row-major window order, whose value is strictly larger
 * than all before it, starting from −∞; a window with no value > −∞ (all −∞ or NaN)
 * sends nothing; padding is never chosen.
 *
 * Implementation: a typed-array loop over wasm memory, like wasm's own (JS) `Slice`
 * kernel — channels innermost so every read is sequential. A composite of tfjs ops
 * (per tap: strided slice, compare, select, place) was ≈20× slower here: wasm's
 * `StridedSlice`, `DepthToSpace` and rank-6 transposes are slow.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf';
import { shape4 } from './composite';

/** Attributes tfjs-core passes to `MaxPoolGrad` (maxPool's gradient). */
export interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Adds each window's `dy` into `dx` (zeroed by the caller) at the window's first
 * maximum of `x`. All arrays NHWC, sizes from `info` (computePool2DInfo).
 */
export function maxPoolGradInto(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  dx: { [i: number]: number },
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const best = new Float64Array(c);
  const where = new Int32Array(c);
  let o = 0; // flat index of dy[b, i, j, 0]
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < ho; i++) {
      const r0 = Math.max(0, i * sh - top);
      const r1 = Math.min(h, i * sh - top + fh);
      for (let j = 0; j < wo; j++, o += c) {
        const c0 = Math.max(0, j * sw - left);
        const c1 = Math.min(w, j * sw - left + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) {
            const base = ((b * h + r) * w + col) * c;
            for (let d = 0; d < c; d++) {
              const v = x[base + d];
              if (v > best[d]) {
                best[d] = v;
                where[d] = base + d;
              }
            }
          }
        }
        for (let d = 0; d < c; d++) {
          if (where[d] >= 0) dx[where[d]] += dy[o + d];
        }
      }
    }
  }
}

/** Kernel config for the wasm backend (NHWC, float32, as tfjs-core's maxPool produces). */
export function maxPoolGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    kernelFunc: ({ inputs, backend: anyBackend, attrs }) => {
      const backend = anyBackend as BackendWasm;
      const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
      const a = attrs as unknown as MaxPoolGradAttrs;
      const info = tf.backend_util.computePool2DInfo(
        shape4(input.shape),
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      tf.util.assert(
        tf.util.arraysEqual(dy.shape, info.outShape),
        () => `MaxPoolGrad: dy shape [${dy.shape}] is not the pool's output [${info.outShape}]`,
      );
      const out = backend.makeOutput(input.shape, 'float32');
      // Views into wasm memory, taken after the allocation (which may move the heap).
      const dx = backend.typedArrayFromHeap(out) as Float32Array;
      dx.fill(0);
      maxPoolGradInto(backend.typedArrayFromHeap(input), backend.typedArrayFromHeap(dy), dx, info);
      return out;
    },
  };
}
