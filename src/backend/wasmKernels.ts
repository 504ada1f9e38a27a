/**
 * Our kernels for the wasm backend (architecture §7.4, §4.2): the wasm backend
 * of tfjs 4.22 lacks two kernels convnet training needs, has one that is wrong, two
 * that are very slow, one that copies where it could share and two that copy their
 * whole input to take a part of it. `registerWasmKernels()` installs, under `backendName: 'wasm'`:
 *
 * | kernel                 | built-in                  | ours                                 |
 * |------------------------|---------------------------|--------------------------------------|
 * | `Conv2DBackpropFilter` | missing                   | a forward conv on transposed tensors |
 * | `Conv2DBackpropInput`  | scalar loop               | a forward conv in sub-pixel form     |
 * | `UnsortedSegmentSum`   | missing                   | `ScatterNd` (gather's gradient)      |
 * | `MaxPoolGrad`          | drops windows of max ≤ 0, | first maximum, as the cpu backend    |
 * |                        | ties to the last          |                                      |
 * | `BatchMatMul`          | scalar loop when          | explicit transpose, then XNNPACK     |
 * |                        | transposed or batched     |                                      |
 * | `Identity`             | copies the buffer         | shares it (one more reference)       |
 * | `Slice`, `SplitV`      | copy the whole input out  | copy the part from the heap          |
 * |                        | of the heap first         |                                      |
 * | `CarpBlocks`,          | (ours: the random         | permute in the heap, no copies       |
 * | `CarpUnblocks`         | partition, §3)            |                                      |
 *
 * Where the native addon loads, its kernels (src/backend/native) go over these for the
 * convolutions, matMul, max-pool gradient and batch norm.
 *
 * Every other kernel a ResNet + CARP head touches in training (batch norm as moments,
 * ReLU, GELU via Erf, softmax, gather, mean/avg-pool, matMul, L2-normalise) was compared
 * with the cpu backend and is correct on wasm: test/backend/gradients.test.ts.
 *
 * Call after `@tensorflow/tfjs-backend-wasm` is imported (its import registers the
 * built-ins, which would otherwise overwrite ours); `selectBackend()` does.
 */
import { tf } from './tf';
import { conv2dBackpropFilterConfig } from './kernels/conv2dBackpropFilter';
import { batchMatMulConfig } from './kernels/batchMatMul';
import { conv2dBackpropInputConfig } from './kernels/conv2dBackpropInput';
import { identityConfig } from './kernels/identity';
import { maxPoolGradConfig } from './kernels/maxPoolGrad';
import { sliceConfig, splitVConfig } from './kernels/slice';
import { blocksConfig, CARP_BLOCKS, CARP_UNBLOCKS, unblocksConfig } from './kernels/blockPermute';
import { unsortedSegmentSumConfig } from './kernels/unsortedSegmentSum';
import { loadNative, nativeSummary, type NativeSummary } from './native/addon';
import { BN_BACKWARD, BN_FORWARD, BN_INFERENCE } from './native/batchNormKernels';
import { CARP_LOSS } from './native/carpLossKernel';
import { CARP_GELU, CARP_GELU_GRAD } from './native/geluKernels';
import { CARP_EMA_STEP, CARP_LARS_STEP } from './native/optimizerKernels';
import { CARP_CONV_BN_INFERENCE } from './native/convBnKernel';
import { nativeKernelConfigs } from './native/kernels';

const BACKEND = 'wasm';

/** Names of the kernels `registerWasmKernels()` installs on wasm. */
export const WASM_KERNEL_NAMES = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.UnsortedSegmentSum,
  tf.MaxPoolGrad,
  tf.BatchMatMul,
  tf.Identity,
  tf.Slice,
  tf.SplitV,
  CARP_BLOCKS,
  CARP_UNBLOCKS,
] as const;
export type WasmKernelName = (typeof WASM_KERNEL_NAMES)[number];

const ours = new Map<string, tf.KernelConfig>();
/** The built-in configs we replaced (absent where wasm has none), kept for benchmarks. */
const builtins = new Map<string, tf.KernelConfig>();
/** The native (oneDNN) configs, when the addon loads (src/backend/native). */
const native = new Map<string, tf.KernelConfig>();
/** Whether the native kernels are installed; decided at the first registration. */
let nativeOn: boolean | undefined;
/** wasm's own Conv2D (XNNPACK), which the native Conv2D replaces and falls back to. */
let builtinConv2D: tf.KernelConfig | undefined;

function install(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, BACKEND) !== undefined) {
    tf.unregisterKernel(config.kernelName, BACKEND);
  }
  tf.registerKernel(config);
}

/** Builds our configs once, remembering the built-ins they replace. */
function ensureConfigs(): void {
  if (ours.size > 0) return;
  tf.util.assert(
    tf.getKernel(tf.Conv2D, BACKEND) !== undefined,
    () => 'registerWasmKernels: import @tensorflow/tfjs-backend-wasm first',
  );
  for (const name of WASM_KERNEL_NAMES) {
    const builtin = tf.getKernel(name, BACKEND);
    if (builtin !== undefined) builtins.set(name, builtin);
  }
  builtinConv2D = tf.getKernel(tf.Conv2D, BACKEND);
  const matMul = builtins.get(tf.BatchMatMul);
  if (matMul === undefined) throw new Error('registerWasmKernels: wasm has no BatchMatMul');
  const identity = builtins.get(tf.Identity);
  if (identity === undefined) throw new Error('registerWasmKernels: wasm has no Identity');
  const slice = builtins.get(tf.Slice);
  const splitV = builtins.get(tf.SplitV);
  if (slice === undefined || splitV === undefined)
    throw new Error('registerWasmKernels: wasm has no Slice or SplitV');
  for (const config of [
    conv2dBackpropFilterConfig(BACKEND),
    conv2dBackpropInputConfig(BACKEND),
    unsortedSegmentSumConfig(BACKEND),
    maxPoolGradConfig(BACKEND),
    batchMatMulConfig(BACKEND, matMul),
    identityConfig(BACKEND, identity),
    sliceConfig(BACKEND, slice),
    splitVConfig(BACKEND, splitV),
    blocksConfig(BACKEND),
    unblocksConfig(BACKEND),
  ]) {
    ours.set(config.kernelName, config);
  }
}

/** Builds the native configs once, over ours (or the built-in) as their fallbacks. */
function ensureNative(): boolean {
  if (native.size > 0) return true;
  const addon = loadNative().addon;
  if (!addon) return false;
  const fallbacks = new Map<string, tf.KernelConfig>(ours);
  if (builtinConv2D) fallbacks.set(tf.Conv2D, builtinConv2D);
  for (const config of nativeKernelConfigs(addon, fallbacks)) native.set(config.kernelName, config);
  return true;
}

/**
 * Registers our wasm kernels; idempotent (a second call changes nothing unless a kernel
 * was swapped with {@link useWasmKernel}, which it swaps back). Where the native addon
 * loads (and `CARP_NATIVE` is not `0`), its kernels go over ours: see
 * {@link useNativeKernels}.
 */
export function registerWasmKernels(): void {
  ensureConfigs();
  if (nativeOn === undefined) nativeOn = ensureNative();
  const wanted = new Map<string, tf.KernelConfig>(ours);
  if (nativeOn) for (const [name, config] of native) wanted.set(name, config);
  else if (builtinConv2D) wanted.set(tf.Conv2D, builtinConv2D);
  for (const config of wanted.values()) {
    if (tf.getKernel(config.kernelName, BACKEND)?.kernelFunc !== config.kernelFunc) install(config);
  }
  if (!nativeOn) {
    // Kernels that exist only on the addon: their callers fall back to tfjs ops.
    for (const name of [
      BN_FORWARD,
      BN_BACKWARD,
      BN_INFERENCE,
      CARP_LOSS,
      CARP_GELU,
      CARP_GELU_GRAD,
      CARP_LARS_STEP,
      CARP_EMA_STEP,
      CARP_CONV_BN_INFERENCE,
    ]) {
      if (tf.getKernel(name, BACKEND) !== undefined) tf.unregisterKernel(name, BACKEND);
    }
  }
}

/**
 * Switches the native (oneDNN) kernels on or off on wasm, for tests and benchmarks that
 * compare both paths in one process. Turning them on throws, with the reason, when the
 * addon is unavailable.
 */
export function useNativeKernels(on: boolean): void {
  ensureConfigs();
  if (on && !ensureNative()) {
    throw new Error(`useNativeKernels: native kernels unavailable: ${loadNative().reason}`);
  }
  nativeOn = on;
  registerWasmKernels();
}

/** The native kernels' library, instruction set and threads when they are installed on wasm. */
export function activeNativeKernels(): NativeSummary | undefined {
  return nativeOn ? nativeSummary() : undefined;
}

/** Why the native kernels are not installed (undefined when they are). */
export function nativeUnavailableReason(): string | undefined {
  if (nativeOn) return undefined;
  return loadNative().reason ?? 'switched off by useNativeKernels(false)';
}

/** Whether wasm has a built-in kernel of that name (before ours replaced it). */
export function hasBuiltinWasmKernel(kernelName: WasmKernelName): boolean {
  ensureConfigs();
  return builtins.has(kernelName);
}

/**
 * Switches one kernel between ours and wasm's built-in, for benchmarks and regression
 * tests (e.g. `Conv2DBackpropInput` built-in vs ours). Throws when wasm has no built-in.
 * A kernel's one-time set-up (binding its C function) is re-run when the wasm backend is
 * already initialised, since it was skipped while the other one was registered.
 */
export function useWasmKernel(kernelName: WasmKernelName, which: 'ours' | 'builtin'): void {
  ensureConfigs();
  // "ours" is the native kernel where those are on, else our pure-wasm one.
  const config =
    which === 'ours'
      ? ((nativeOn ? native.get(kernelName) : undefined) ?? ours.get(kernelName))
      : builtins.get(kernelName);
  if (config === undefined) {
    throw new Error(`useWasmKernel: wasm has no built-in ${kernelName}`);
  }
  install(config);
  if (config.setupFunc !== undefined) {
    const backend = tf.engine().registry[BACKEND];
    if (backend !== undefined) config.setupFunc(backend);
  }
}
