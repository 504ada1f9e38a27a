/**
 * The WebGPU backend through Dawn (npm `webgpu`) and `@tensorflow/tfjs-backend-webgpu`:
 * a GPU path that needs no CUDA/cuDNN build of libtensorflow (architecture §4.4, where
 * `@tensorflow/tfjs-node-gpu` cannot be installed).
 *
 * Chain position (decided in selectBackend): after tfjs-node-gpu, before tfjs-node. In
 * the chain only a hardware adapter is taken; a software one (llvmpipe, lavapipe,
 * SwiftShader) only when `CARP_BACKEND=webgpu` forces it — it is far slower than wasm.
 *
 * Dawn routes, in order: Vulkan (core WebGPU), then OpenGL ES over EGL (compatibility
 * mode; a GPU without a Vulkan ICD, or Mesa llvmpipe in software).
 *
 * Nothing GPU-related is imported at module load: CPU-only machines pay nothing unless
 * `tryWebgpu` is called, and even then a Linux machine without a GPU device node is
 * refused before Dawn is loaded (unless software is allowed).
 *
 * Node specifics:
 * - `tfjs-backend-webgpu` registers its backend only if `navigator.gpu` exists when the
 *   package is first loaded, so Dawn's globals (`GPUBufferUsage`, …) and `navigator.gpu`
 *   are installed before it is required.
 * - tfjs's factory calls `navigator.gpu.requestAdapter({powerPreference})` without a
 *   feature level; the OpenGL ES route needs `featureLevel: 'compatibility'`. Our
 *   `navigator.gpu` therefore hands out the very adapter we inspected (once), then
 *   forwards with the route's feature level.
 * - `dataSync()`/`arraySync()` do not work on this backend in Node: its `readSync`
 *   stages through `OffscreenCanvas`, which Node lacks. Read with `await t.data()`.
 * - Dawn keeps native handles open: programs end with `process.exit()` after
 *   `shutdownWebgpu()` (see there).
 */
import { tf } from './tf';
import {
  addNIsExact,
  installChunkedAddN,
  storageBufferLimit,
  withRaisedLimits,
} from './webgpu/limits';
import {
  formatAdapter,
  summariseAdapter,
  type AdapterInfoLike,
  type WebgpuAdapterSummary,
} from './webgpu/adapter';
import {
  OPENGLES_ROUTE,
  VULKAN_ROUTE,
  gpuDeviceNodes,
  loadDawn,
  prepareSoftwareEnv,
  requestDawnAdapter,
  type DawnAdapter,
  type DawnGpu,
  type DawnRoute,
} from './webgpu/dawn';
import { applyWebgpuWorkarounds } from './webgpu/selfTest';

export type { WebgpuAdapterSummary } from './webgpu/adapter';
export { isSoftwareAdapter, adapterDisplayName } from './webgpu/adapter';

export interface TryWebgpuOptions {
  /** Accept a software adapter (and try the OpenGL ES/llvmpipe route). Only when forced. */
  allowSoftware: boolean;
  /**
   * Probe Dawn even where Linux shows no GPU device node (the device check sets it, so a
   * driver exposing its GPU differently is still found). Default false: CPU-only machines
   * skip loading Dawn.
   */
  alwaysProbe?: boolean;
  /** Where the one-line adapter report goes (default: stderr). */
  log?: (line: string) => void;
}

export interface WebgpuChoice {
  backend: 'webgpu';
  adapter: WebgpuAdapterSummary;
  /** Kernel workarounds the start-up self-tests applied on this adapter (webgpu/selfTest.ts). */
  workarounds: string[];
}

let current: WebgpuChoice | undefined;

/** The adapter in use, or undefined before `tryWebgpu` succeeded. */
export function currentWebgpu(): WebgpuChoice | undefined {
  return current;
}

/**
 * `navigator.gpu` as tfjs sees it: the first `requestAdapter` returns the adapter we
 * already classified (so tfjs cannot pick a different one), later calls go to Dawn with
 * the route's feature level added.
 */
function wrapGpu(gpu: DawnGpu, first: DawnAdapter, route: DawnRoute): DawnGpu {
  let handed = false;
  return {
    requestAdapter: (options?: Record<string, unknown>) => {
      if (!handed) {
        handed = true;
        return Promise.resolve(withRaisedLimits(first));
      }
      return gpu.requestAdapter({ ...options, featureLevel: route.featureLevel });
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat?.() ?? 'bgra8unorm',
    get wgslLanguageFeatures() {
      return gpu.wgslLanguageFeatures;
    },
  };
}

/** Installs `navigator.gpu` (Node 20 has no `navigator`; Node 21+ has one without `gpu`). */
function installNavigator(gpu: DawnGpu): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator && typeof g.navigator === 'object') {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu },
      configurable: true,
      writable: true,
    });
  }
}

/** Finds an adapter on the allowed routes; throws with every route's reason. */
async function findAdapter(allowSoftware: boolean): Promise<{
  gpu: DawnGpu;
  adapter: DawnAdapter;
  route: DawnRoute;
  summary: WebgpuAdapterSummary;
}> {
  const dawn = await loadDawn();
  // Mesa's Vulkan loader/lavapipe already complain about XDG_RUNTIME_DIR while probing
  // the hardware route; set up the software environment first when it may be used.
  if (allowSoftware) prepareSoftwareEnv();
  // Dawn's globals (GPUBufferUsage, GPUMapMode, …) are read by tfjs-backend-webgpu as globals.
  Object.assign(globalThis, dawn.globals);
  const routes = [VULKAN_ROUTE, OPENGLES_ROUTE];
  const reasons: string[] = [];
  for (const route of routes) {
    let found: { gpu: DawnGpu; adapter: DawnAdapter | null };
    try {
      found = await requestDawnAdapter(dawn, route);
    } catch (e) {
      reasons.push(`${route.backend}: ${String((e as Error).message).split('\n')[0]}`);
      continue;
    }
    if (!found.adapter) {
      reasons.push(`${route.backend}: no adapter`);
      continue;
    }
    const info: AdapterInfoLike = found.adapter.info ?? {};
    const summary = summariseAdapter(info, route.backend, route.featureLevel);
    if (summary.software && !allowSoftware) {
      reasons.push(
        `${route.backend}: software adapter ${summary.name} refused (CARP_BACKEND=webgpu forces it)`,
      );
      continue;
    }
    return { gpu: found.gpu, adapter: found.adapter, route, summary };
  }
  throw new Error(`no WebGPU adapter (${reasons.join('; ')})`);
}

/** Registers tfjs-backend-webgpu, lazily: loading it must not touch CPU-only machines. */
function registerTfjsWebgpu(adapter: DawnAdapter): void {
  // A literal require: bundlers inline it (one tfjs engine), and its typings (which pull in
  // @webgpu/types globals) stay out of the program. The package's CommonJS main registers
  // the backend on load when navigator.gpu exists.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('@tensorflow/tfjs-backend-webgpu') as {
    WebGPUBackend: new (device: unknown, info?: unknown) => tf.KernelBackend;
  };
  if (tf.findBackendFactory('webgpu')) return;
  // Loaded earlier, before navigator.gpu existed: it skipped registration. Register the
  // same factory ourselves (mirrors the package's base.ts, with our adapter).
  tf.registerBackend(
    'webgpu',
    async () => {
      const limits = (adapter as { limits?: Record<string, number> }).limits ?? {};
      const pick = [
        'maxComputeWorkgroupStorageSize',
        'maxComputeWorkgroupsPerDimension',
        'maxStorageBufferBindingSize',
        'maxBufferSize',
        'maxComputeWorkgroupSizeX',
        'maxComputeInvocationsPerWorkgroup',
      ];
      const requiredLimits = {
        ...Object.fromEntries(pick.map((k) => [k, limits[k]])),
        // See ./webgpu/limits.ts: tfjs asks for 8 storage buffers, its AddN needs more.
        maxStorageBuffersPerShaderStage: storageBufferLimit(adapter),
      };
      const requiredFeatures = adapter.features?.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
      return new mod.WebGPUBackend(device, adapter.info);
    },
    3,
  );
}

/**
 * Initialises Dawn, picks an adapter, registers and activates tfjs's `webgpu` backend.
 * Throws (with a reason the backend chain logs) when there is no acceptable adapter or
 * the backend fails a smoke computation. Idempotent once it succeeded.
 */
export async function tryWebgpu(options: TryWebgpuOptions): Promise<WebgpuChoice> {
  const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  if (current) {
    if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend no longer initialises');
    return current;
  }
  if (!options.allowSoftware && !options.alwaysProbe) {
    const nodes = gpuDeviceNodes();
    if (nodes !== undefined && nodes.length === 0) {
      throw new Error('no GPU device node (/dev/nvidia*, /dev/dri/renderD*, /dev/dxg)');
    }
  }
  const { gpu, adapter, route, summary } = await findAdapter(options.allowSoftware);
  installNavigator(wrapGpu(gpu, adapter, route));
  try {
    registerTfjsWebgpu(adapter);
  } catch (e) {
    throw new Error(
      `@tensorflow/tfjs-backend-webgpu not loadable (${String((e as Error).message).split('\n')[0]})`,
    );
  }
  if (!(await tf.setBackend('webgpu'))) {
    tf.removeBackend('webgpu');
    throw new Error(`tfjs could not initialise webgpu on ${formatAdapter(summary)}`);
  }
  // A real computation, read back asynchronously: a device that compiles no shader fails here
  // rather than in the middle of training.
  const probe = tf.tidy(() => tf.add(tf.ones([4]), tf.scalar(1)));
  const values = await probe.data();
  probe.dispose();
  if (!Array.from(values).every((v) => v === 2)) {
    tf.removeBackend('webgpu');
    throw new Error(
      `webgpu smoke test computed ${Array.from(values).join(',')} instead of 2,2,2,2`,
    );
  }
  let workarounds: string[];
  try {
    // One shader binds at most (storage-buffer limit − 1) AddN inputs (./webgpu/limits.ts).
    installChunkedAddN(storageBufferLimit(adapter) - 1);
    if (!(await addNIsExact())) throw new Error('a 20-input AddN is wrong');
    workarounds = await applyWebgpuWorkarounds();
  } catch (e) {
    tf.removeBackend('webgpu');
    throw new Error(
      `webgpu self-test failed on ${formatAdapter(summary)}: ${(e as Error).message}`,
    );
  }
  current = { backend: 'webgpu', adapter: summary, workarounds };
  log(
    `[carp-kit] webgpu adapter: ${formatAdapter(summary)}` +
      (workarounds.length ? ` — ${workarounds.join('; ')}` : ''),
  );
  return current;
}

/**
 * Releases the GPU device. Dawn keeps native handles that can hold the event loop open,
 * so a program that used webgpu ends with `process.exit(code)` after this (the CLI and
 * the device check do). Tensors still on the webgpu backend become unusable.
 */
export async function shutdownWebgpu(): Promise<void> {
  if (!current) return;
  current = undefined;
  const backend = tf.findBackend('webgpu') as { device?: { destroy?(): void } } | null;
  const device = backend?.device;
  if (tf.getBackend() === 'webgpu') await tf.ready();
  tf.removeBackend('webgpu'); // disposes tfjs's buffers on that device
  device?.destroy?.();
}
