/**
 * What the native kernels need of tfjs-wasm's `BackendWasm`: allocate an output on the wasm
 * heap, find a tensor's byte offset, and the heap itself (read after every allocation,
 * which may grow and so replace it).
 */
import { tf } from '../tf';

/** The members of tfjs-wasm's `BackendWasm` the native kernels use. */
export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];

/** The kernel's backend, typed as the wasm heap backend. */
export function heapBackend(args: KernelArgs): WasmHeapBackend {
  return args.backend as unknown as WasmHeapBackend;
}

export const size = (t: tf.TensorInfo): number => tf.util.sizeFromShape(t.shape);
/** Every tensor float32 and non-empty (what the native kernels take). */
export const allFloat = (ts: tf.TensorInfo[]): boolean =>
  ts.every((t) => t.dtype === 'float32' && size(t) > 0);
