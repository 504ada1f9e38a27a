/**
 * Backend selection (architecture §4.1): tfjs-node-gpu → webgpu (a real GPU adapter) →
 * tfjs-node → wasm → cpu.
 *
 * `@tensorflow/tfjs-node(-gpu)` are optional dependencies: they only install where
 * libtensorflow can be downloaded (and the GPU build needs CUDA 11.2 + cuDNN 8.1), so
 * each is tried with `require` and skipped with its reason. WebGPU runs through Dawn
 * (npm `webgpu`) over Vulkan; a software adapter (llvmpipe, SwiftShader) is only taken
 * when `CARP_BACKEND=webgpu` forces it. `CARP_BACKEND` forces any one.
 * The choice and the skip reasons are logged once per process.
 */
import { info } from '../util/log';
import { tf } from './tf';
import { threadsFromEnv, type NativeSummary } from './native/addon';
import { activeNativeKernels, nativeUnavailableReason, registerWasmKernels } from './wasmKernels';
import { tryWebgpu, type WebgpuAdapterSummary } from './webgpu';

export const BACKEND_NAMES = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** User-facing aliases accepted in `CARP_BACKEND`. */
const ALIASES: Record<string, BackendName> = {
  'tfjs-node-gpu': 'tensorflow-gpu',
  gpu: 'tensorflow-gpu',
  'tensorflow-gpu': 'tensorflow-gpu',
  webgpu: 'webgpu',
  'tfjs-node': 'tensorflow',
  node: 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

export interface BackendChoice {
  /** The tfjs backend name now active (`tensorflow`, `wasm`, `cpu`). */
  backend: string;
  /** Which candidate of the chain was chosen. */
  candidate: BackendName;
  /** Whether `CARP_BACKEND` forced it. */
  forced: boolean;
  /** Why each earlier candidate was skipped. */
  skipped: { candidate: BackendName; reason: string }[];
  /** The GPU adapter, when the backend is webgpu. */
  adapter?: WebgpuAdapterSummary;
  /** On wasm: the native (oneDNN) kernels in use, or why not (src/backend/native). */
  native?: NativeSummary | { unavailable: string };
}

let chosen: BackendChoice | undefined;
let pending: Promise<BackendChoice> | undefined;

/** Parses a `CARP_BACKEND` value; throws listing the valid values when unknown. */
export function parseBackendName(value: string): BackendName {
  const name = ALIASES[value.trim().toLowerCase()];
  if (name === undefined) {
    throw new Error(
      `CARP_BACKEND=${JSON.stringify(value)} is not a backend; valid values: ${Object.keys(ALIASES).join(', ')}`,
    );
  }
  return name;
}

async function tryCandidate(
  candidate: BackendName,
  forced: boolean,
  log: (line: string) => void,
): Promise<Pick<BackendChoice, 'backend' | 'adapter' | 'native'>> {
  switch (candidate) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg =
        candidate === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(pkg);
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0];
        throw new Error(`${pkg} not loadable (${msg})`);
      }
      if (!(await tf.setBackend('tensorflow')))
        throw new Error(`${pkg} loaded but backend failed to initialise`);
      return { backend: 'tensorflow' };
    }
    case 'webgpu': {
      // Refuses (with a reason) without a GPU device node or with a software adapter
      // unless forced; logs the adapter's name and type itself.
      const w = await tryWebgpu({ allowSoftware: forced, log });
      return { backend: 'webgpu', adapter: w.adapter };
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm');
      registerWasmKernels();
      if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
      const native = activeNativeKernels();
      return {
        backend: 'wasm',
        native: native ?? { unavailable: nativeUnavailableReason() ?? 'unknown' },
      };
    }
    case 'cpu': {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend failed to initialise');
      return { backend: 'cpu' };
    }
  }
}

async function select(env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<BackendChoice> {
  const forcedValue = env.CARP_BACKEND;
  const forced = forcedValue !== undefined && forcedValue.trim() !== '';
  const chain: BackendName[] = forced ? [parseBackendName(forcedValue)] : [...BACKEND_NAMES];
  // Checked before the chain: a bad value would otherwise only skip wasm for cpu.
  if (env.CARP_NATIVE !== '0') threadsFromEnv(env);
  const skipped: BackendChoice['skipped'] = [];
  for (const candidate of chain) {
    try {
      const { backend, adapter, native } = await tryCandidate(candidate, forced, log);
      const choice: BackendChoice = {
        backend,
        candidate,
        forced,
        skipped,
        ...(adapter ? { adapter } : {}),
        ...(native ? { native } : {}),
      };
      const why = skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ');
      log(
        `[carp-kit] backend ${backend}${forced ? ' (forced by CARP_BACKEND)' : ''}` +
          (native ? ` — ${describeNative(native)}` : '') +
          (why ? ` — skipped ${why}` : ''),
      );
      return choice;
    } catch (e) {
      skipped.push({ candidate, reason: (e as Error).message });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could be started: ${skipped.map((s) => `${s.candidate}: ${s.reason}`).join('; ')}`,
  );
}

/** One phrase for the log line: the native kernels in use, or why not. */
export function describeNative(native: NonNullable<BackendChoice['native']>): string {
  return 'unavailable' in native
    ? `native kernels off: ${native.unavailable}`
    : `native kernels on (${native.library} ${native.isa}, ${native.threads} threads)`;
}

/**
 * Selects and initialises the backend once per process; later calls return the
 * same choice. Pass `{ log }` to capture the one-line log (default: stderr).
 */
export function selectBackend(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<BackendChoice> {
  if (chosen) return Promise.resolve(chosen);
  if (!pending) {
    pending = select(options.env ?? process.env, options.log ?? info).then(
      (c) => (chosen = c),
      (e) => {
        pending = undefined;
        throw e;
      },
    );
  }
  return pending;
}

/** The current choice, or undefined before `selectBackend()` resolved. */
export function currentBackend(): BackendChoice | undefined {
  return chosen;
}
