/**
 * The random partition's permutation (§3) as wasm kernels that work in the heap:
 * `CarpBlocks` takes logits [B, K] to blocks [N_p, B, P] (out[b, n, c] = x[n, π[bP + c]]),
 * `CarpUnblocks` is its transpose, [N_p, B, P] → [B, K] with zeros for prototypes outside
 * the partition (its gradient; π is distinct, so no sums).
 *
 * Why: the host path of src/carp/randomPartition.ts reads each view's logits out of the
 * heap (`dataSync`: a copy), permutes them in JS and copies the result back in as a new
 * tensor, forward and backward: at B = 128, K = 4096, six student and two teacher views,
 * that was ≈ 5 % of a width-16 step on this machine. Here the permutation reads and writes
 * the heap in place: in C++ where the native addon is loaded (`blockPermute`, ≈ 10×
 * faster than the JS loop on random column indices), else in a JS loop. The values are
 * the same floats either way (a permutation copies them).
 */
import { tf } from '../tf';
import type { NativeAddon } from '../native/addon';
import type { WasmHeapBackend } from '../native/heap';

export const CARP_BLOCKS = 'CarpBlocks';
export const CARP_UNBLOCKS = 'CarpUnblocks';

interface HeapViews extends WasmHeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** Attributes of both kernels: the partition π (distinct indices) and P, and K for the transpose. */
export interface BlockPermuteAttrs {
  partition: Int32Array;
  partitionSize: number;
  numPrototypes: number;
}

const attrsOf = (args: Parameters<tf.KernelConfig['kernelFunc']>[0]) =>
  args.attrs as unknown as BlockPermuteAttrs;

/** Runs the addon's permutation from `src` into `out` (both float32 on the heap). */
function nativePermute(
  addon: NativeAddon,
  backend: HeapViews,
  src: tf.TensorInfo,
  out: tf.TensorInfo,
  a: BlockPermuteAttrs,
  batch: number,
  toBlocks: boolean,
): tf.TensorInfo {
  const p = a.partitionSize;
  addon.blockPermute(
    backend.wasm.HEAPU8, // read after makeOutput, which may have grown the heap
    backend.getMemoryOffset(src.dataId),
    backend.getMemoryOffset(out.dataId),
    a.partition,
    a.partition.length / p,
    batch,
    a.numPrototypes,
    p,
    toBlocks ? 1 : 0,
  );
  return out;
}

/**
 * `CarpBlocks` on wasm: x [B, K] float32 → [N_p, B, P]; with `addon`, in C++.
 */
export function blocksConfig(backendName: string, addon?: NativeAddon): tf.KernelConfig {
  return {
    kernelName: CARP_BLOCKS,
    backendName,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: tf.TensorInfo };
      const { partition, partitionSize: p } = attrsOf(args);
      const [batch, k] = x.shape;
      const numBlocks = partition.length / p;
      const backend = args.backend as unknown as HeapViews;
      const out = backend.makeOutput([numBlocks, batch, p], 'float32');
      if (addon && x.dtype === 'float32') {
        return nativePermute(addon, backend, x, out, attrsOf(args), batch, true);
      }
      // Views after makeOutput: an allocation may grow the heap and replace its buffer.
      const src = backend.typedArrayFromHeap(x);
      const dst = backend.typedArrayFromHeap(out);
      for (let b = 0; b < numBlocks; b++) {
        const cols = partition.subarray(b * p, (b + 1) * p);
        for (let n = 0; n < batch; n++) {
          const row = n * k;
          const o = (b * batch + n) * p;
          for (let c = 0; c < p; c++) dst[o + c] = src[row + cols[c]];
        }
      }
      return out;
    },
  };
}

/** `CarpUnblocks` on wasm: dy [N_p, B, P] → [B, K], zeros outside the partition; with `addon`, in C++. */
export function unblocksConfig(backendName: string, addon?: NativeAddon): tf.KernelConfig {
  return {
    kernelName: CARP_UNBLOCKS,
    backendName,
    kernelFunc: (args) => {
      const { dy } = args.inputs as { dy: tf.TensorInfo };
      const { partition, partitionSize: p, numPrototypes: k } = attrsOf(args);
      const [numBlocks, batch] = dy.shape;
      const backend = args.backend as unknown as HeapViews;
      const out = backend.makeOutput([batch, k], 'float32');
      if (addon && dy.dtype === 'float32') {
        return nativePermute(addon, backend, dy, out, attrsOf(args), batch, false);
      }
      const src = backend.typedArrayFromHeap(dy);
      const dst = backend.typedArrayFromHeap(out);
      // The heap is reused memory: zero the prototypes outside the partition first.
      if (partition.length < k) dst.fill(0);
      for (let b = 0; b < numBlocks; b++) {
        const cols = partition.subarray(b * p, (b + 1) * p);
        for (let n = 0; n < batch; n++) {
          const row = n * k;
          const o = (b * batch + n) * p;
          for (let c = 0; c < p; c++) dst[row + cols[c]] = src[o + c];
        }
      }
      return out;
    },
  };
}

/** Whether the active backend has the heap permutation kernels (wasm, once registered). */
export function hasBlockKernels(): boolean {
  return tf.getKernel(CARP_BLOCKS, tf.getBackend()) !== undefined;
}
