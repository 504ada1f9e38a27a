/**
 * Device limits and the many-input AddN on the webgpu backend.
 *
 * Why (seen on an NVIDIA H200 through Dawn/Vulkan): tfjs-backend-webgpu 4.22 requests its
 * device without `maxStorageBuffersPerShaderStage`, so the device keeps WebGPU's default
 * of 8 even though the adapter offers 16, and its `AddN` binds every input as a storage
 * buffer in one shader. The backward pass sums up to ~15 gradient contributions with one
 * AddN; that pipeline is then invalid, the command buffer is dropped and the sum silently
 * reads as garbage (gradients off by 40% median in a CARP step). Two fixes:
 *  1. the adapter handed to tfjs requests the adapter's own storage-buffer limit;
 *  2. AddN is re-registered to sum at most `limit − 1` inputs per shader (output + inputs
 *     ≤ limit), chaining partial sums for more.
 */
import { tf } from '../tf';

/** WebGPU's default `maxStorageBuffersPerShaderStage`, what a device has unless raised. */
export const DEFAULT_STORAGE_BUFFERS = 8;

interface AdapterLike {
  limits?: Record<string, number>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

/** The adapter's storage-buffer limit (the default when it reports none). */
export function storageBufferLimit(adapter: AdapterLike): number {
  return adapter.limits?.maxStorageBuffersPerShaderStage ?? DEFAULT_STORAGE_BUFFERS;
}

/**
 * A view of `adapter` whose `requestDevice` also asks for the adapter's full
 * storage-buffer limit. Other members are the adapter's own (methods bound to it, since
 * Dawn's native methods reject a foreign `this`).
 */
export function withRaisedLimits<T extends AdapterLike>(adapter: T): T {
  const limit = storageBufferLimit(adapter);
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === 'requestDevice') {
        return (descriptor?: { requiredLimits?: Record<string, number> }) =>
          target.requestDevice({
            ...descriptor,
            requiredLimits: {
              ...descriptor?.requiredLimits,
              maxStorageBuffersPerShaderStage: limit,
            },
          });
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

// AddN's inputs arrive as an array (tfjs hands the op's tensor list through unchanged).
type KernelFunc = (args: {
  inputs: tf.TensorInfo[];
  backend: tf.KernelBackend;
  attrs?: unknown;
}) => tf.TensorInfo;

let installed = false;

/**
 * Re-registers webgpu's AddN so that one shader never binds more than `maxInputs` inputs
 * (storage buffers per stage − 1 for the output). Idempotent.
 */
export function installChunkedAddN(maxInputs: number): void {
  if (installed) return;
  const original = tf.getKernel(tf.AddN, 'webgpu');
  if (!original) throw new Error('installChunkedAddN: webgpu has no AddN kernel');
  const base = original.kernelFunc as unknown as KernelFunc;
  const chunk = Math.max(2, maxInputs);
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    let level = Array.from(inputs);
    const created: tf.TensorInfo[] = [];
    while (level.length > chunk) {
      const next: tf.TensorInfo[] = [];
      for (let i = 0; i < level.length; i += chunk) {
        const part = level.slice(i, i + chunk);
        const sum = part.length === 1 ? part[0] : base({ inputs: part, backend, attrs });
        if (part.length > 1) created.push(sum);
        next.push(sum);
      }
      level = next;
    }
    const out = base({ inputs: level, backend, attrs });
    for (const t of created) backend.disposeData(t.dataId);
    return out;
  };
  tf.unregisterKernel(tf.AddN, 'webgpu');
  tf.registerKernel({
    kernelName: tf.AddN,
    backendName: 'webgpu',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
  installed = true;
}

/** Exact check of a 20-input AddN (integers: any summation order is exact). */
export async function addNIsExact(): Promise<boolean> {
  const n = 20;
  const xs = Array.from({ length: n }, (_, i) => tf.fill([64], i + 1));
  const sum = tf.addN(xs);
  const v = await sum.data();
  tf.dispose([...xs, sum]);
  return Array.from(v).every((x) => x === (n * (n + 1)) / 2);
}
