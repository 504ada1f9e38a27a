/**
 * `Slice` and `SplitV` for the wasm backend: the slice is copied straight from the input's
 * place in the heap, instead of from a copy of the whole input.
 *
 * Why: wasm's built-in `Slice` first reads its input with `readSync`, which copies the
 * entire tensor out of the heap into a fresh JS array, and `SplitV` calls it once per
 * piece. Splitting the [6·B, K] prototype logits of a multi-crop step into its six views
 * copied 6 × 12 MiB to keep 12 MiB (≈ 110 ms at B = 128, K = 4096, on this machine),
 * and every `concat`'s gradient is a `slice`. The values are the same: a copy of the same
 * floats in the same order.
 */
import { tf } from '../tf';
import type { WasmHeapBackend } from '../native/heap';

interface SliceHeapBackend extends WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): tf.TypedArray;
}

/** Copies x[begin : begin + size] (any rank) into a new heap tensor. */
function sliceOnHeap(
  backend: SliceHeapBackend,
  x: tf.TensorInfo,
  begin: number[],
  size: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  // Views taken after makeOutput: an allocation may grow the heap and replace its buffer.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const at = tf.slice_util.computeFlatOffset(begin, strides);
    dst.set(src.subarray(at, at + dst.length));
    return out;
  }
  // Row by row along the last axis: an odometer over the leading axes of `size`.
  const rank = size.length;
  const row = size[rank - 1];
  const rows = dst.length / row;
  const index = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let at = begin[rank - 1];
    for (let d = 0; d < rank - 1; d++) at += (begin[d] + index[d]) * strides[d];
    dst.set(src.subarray(at, at + row), r * row);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < size[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** `Slice` config for `backendName` (wasm); strings keep the built-in. */
export function sliceConfig(backendName: string, builtin: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Slice,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return builtin.kernelFunc(args);
      const { begin, size } = args.attrs as unknown as { begin: number[]; size: number[] };
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      return sliceOnHeap(args.backend as unknown as SliceHeapBackend, x, b, s);
    },
  };
}

/** `SplitV` config for `backendName` (wasm): one heap slice per piece; strings keep the built-in. */
export function splitVConfig(backendName: string, builtin: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.SplitV,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      if (x.dtype === 'string') return builtin.kernelFunc(args);
      const { numOrSizeSplits, axis } = args.attrs as unknown as {
        numOrSizeSplits: number[] | number;
        axis: number;
      };
      const a = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, a);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((n) => {
        const size = [...x.shape];
        size[a] = n;
        const piece = sliceOnHeap(args.backend as unknown as SliceHeapBackend, x, [...begin], size);
        begin[a] += n;
        return piece;
      });
    },
  };
}
