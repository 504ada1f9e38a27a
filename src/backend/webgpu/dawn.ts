/**
 * Loading Dawn (npm `webgpu`, the `dawn.node` addon) and asking it for an adapter.
 *
 * Facts this relies on (re-verified on Debian 12, Mesa 22.3.6, webgpu 0.6.2):
 * - `webgpu` is ESM-only (`"type": "module"`). We load it with a real dynamic `import()`:
 *   TypeScript's NodeNext output for CommonJS keeps `import()` as written (it does not
 *   rewrite it to `require`), and Node runs it from CommonJS. The specifier is passed
 *   through a variable so that TypeScript does not pull in `@webgpu/types` (it declares
 *   DOM-like globals project-wide) and bundlers leave the package external: its loader
 *   finds `dist/<platform>-<arch>/dawn.node` from `import.meta.url`, which only works
 *   from its own folder.
 * - With Mesa's lavapipe Dawn finds no Vulkan adapter ("While initializing adapter
 *   (backend=BackendType::Vulkan)"), but Mesa's OpenGL ES (llvmpipe) works with
 *   `backend=opengles`, `featureLevel: 'compatibility'`, `EGL_PLATFORM=surfaceless`
 *   (no display) and `XDG_RUNTIME_DIR` pointing at a 0700 directory.
 * - Vulkan is the backend to use on a real GPU on Linux (NVIDIA's driver ships a Vulkan ICD).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterInfoLike, DawnBackend } from './adapter';

/** The part of a `GPUAdapter` we touch. */
export interface DawnAdapter {
  readonly info?: AdapterInfoLike;
  readonly features?: ReadonlySet<string>;
  requestDevice(descriptor?: unknown): Promise<unknown>;
}

/** The part of the `GPU` object (`navigator.gpu`) we touch. */
export interface DawnGpu {
  requestAdapter(options?: Record<string, unknown>): Promise<DawnAdapter | null>;
  getPreferredCanvasFormat?(): string;
  readonly wgslLanguageFeatures?: unknown;
}

/** The `webgpu` package's exports. */
export interface DawnModule {
  create(flags: string[]): DawnGpu;
  globals: Record<string, unknown>;
}

/** One way of asking Dawn for an adapter. */
export interface DawnRoute {
  backend: DawnBackend;
  featureLevel: 'core' | 'compatibility';
}

/** First choice on Linux: Vulkan, core WebGPU (NVIDIA, AMD and Intel drivers ship Vulkan ICDs). */
export const VULKAN_ROUTE: DawnRoute = { backend: 'vulkan', featureLevel: 'core' };
/**
 * Second choice: OpenGL ES through EGL, compatibility mode. Serves a GPU whose Vulkan ICD
 * is missing but whose EGL driver is there, and is the software route that works here
 * (Mesa llvmpipe).
 */
export const OPENGLES_ROUTE: DawnRoute = { backend: 'opengles', featureLevel: 'compatibility' };

/**
 * Dynamic `import()` that TypeScript emits verbatim in CommonJS output (NodeNext keeps it)
 * and that neither TypeScript nor a bundler resolves at build time.
 */
export function importExternal(specifier: string): Promise<unknown> {
  return import(specifier);
}

let loaded: Promise<DawnModule> | undefined;

/** Loads `webgpu` once; rejects with a one-line reason where the addon cannot load. */
export function loadDawn(): Promise<DawnModule> {
  loaded ??= importExternal('webgpu').then(
    (m) => {
      const mod = m as Partial<DawnModule>;
      if (typeof mod.create !== 'function' || typeof mod.globals !== 'object') {
        throw new Error('package webgpu has no create()/globals exports');
      }
      return mod as DawnModule;
    },
    (e: unknown) => {
      loaded = undefined;
      throw new Error(
        `package webgpu not loadable (${String((e as Error).message).split('\n')[0]})`,
      );
    },
  );
  return loaded;
}

/**
 * Device nodes a hardware GPU shows on Linux: NVIDIA's `/dev/nvidia0…`, DRM render
 * nodes (`/dev/dri/renderD128`, AMD/Intel/NVIDIA open), WSL's `/dev/dxg`.
 * Returns undefined off Linux (no cheap check there: Dawn itself decides).
 */
export function gpuDeviceNodes(): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const found: string[] = [];
  const list = (dir: string, re: RegExp) => {
    try {
      for (const f of readdirSync(dir)) if (re.test(f)) found.push(join(dir, f));
    } catch {
      // directory absent: nothing of that kind here
    }
  };
  list('/dev', /^(nvidia\d+|dxg)$/);
  list('/dev/dri', /^renderD\d+$/);
  return found;
}

/**
 * Environment that Mesa's EGL needs on a machine without a display: a surfaceless EGL
 * platform and a private runtime dir (Mesa warns and may fail when XDG_RUNTIME_DIR is
 * unset or not 0700). Only fills in what is unset; must run before the first `create()`
 * on the OpenGL ES backend because EGL reads it at display creation.
 */
export function prepareSoftwareEnv(env: NodeJS.ProcessEnv = process.env): void {
  env.EGL_PLATFORM ??= 'surfaceless';
  if (!env.XDG_RUNTIME_DIR || !existsSync(env.XDG_RUNTIME_DIR)) {
    env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'carp-xdg-')); // mkdtemp makes it 0700
  }
}

/** Dawn's `create()` flags for a route; `CARP_DAWN_FLAGS` (comma-separated) adds more. */
export function dawnFlags(route: DawnRoute, env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.CARP_DAWN_FLAGS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return [`backend=${route.backend}`, ...extra];
}

/**
 * Asks Dawn for an adapter on one route. Returns the GPU object (so it can be installed
 * as `navigator.gpu`) and the adapter, or null when that backend has none.
 */
export async function requestDawnAdapter(
  dawn: DawnModule,
  route: DawnRoute,
): Promise<{ gpu: DawnGpu; adapter: DawnAdapter | null }> {
  if (route.backend === 'opengles' || route.backend === 'opengl') prepareSoftwareEnv();
  const gpu = dawn.create(dawnFlags(route));
  const adapter = await gpu.requestAdapter({
    powerPreference: 'high-performance',
    featureLevel: route.featureLevel,
  });
  return { gpu, adapter };
}

/**
 * Dawn's list of adapters on one backend, for diagnostics: asking for an adapter name
 * that does not exist makes Dawn's node binding throw "Available adapters: * backend:
 * 'vulkan', name: '…'". Returns that list, or the error text when it says something else.
 */
export async function listDawnAdapters(backend: DawnBackend): Promise<string> {
  try {
    const dawn = await loadDawn();
    if (backend === 'opengles' || backend === 'opengl') prepareSoftwareEnv();
    const gpu = dawn.create([`backend=${backend}`, 'adapter=carp-kit-list-adapters']);
    const a = await gpu.requestAdapter({ featureLevel: 'compatibility' });
    return a ? 'an adapter matched the listing name (unexpected)' : 'no adapters';
  } catch (e) {
    const text = String((e as Error).message);
    const at = text.indexOf('Available adapters:');
    return (at >= 0 ? text.slice(at + 'Available adapters:'.length) : text)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join('; ');
  }
}
