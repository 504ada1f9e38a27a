/**
 * What kind of WebGPU adapter Dawn handed us, from its `GPUAdapterInfo` alone.
 *
 * Dawn's node binding (webgpu 0.6.2) exposes no adapter type (discrete / integrated /
 * CPU): `info` has vendor, architecture, device, description and `isFallbackAdapter`.
 * Mesa's llvmpipe (through OpenGL ES) reports `isFallbackAdapter: false`, vendor and
 * architecture empty and `device: 'llvmpipe-llvm-15-0-6-256-bits-'` (seen on Debian 12,
 * Mesa 22.3), so software renderers are recognised by name as well.
 * Pure functions: unit-tested without a GPU.
 */

/** The fields of `GPUAdapterInfo` that Dawn fills in (all optional: older builds lack some). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Dawn backends we ask for by name (`create(['backend=…'])`). */
export type DawnBackend = 'vulkan' | 'opengles' | 'opengl' | 'metal' | 'd3d12' | 'd3d11' | 'null';

/** The adapter as the backend chain logs and reports it. */
export interface WebgpuAdapterSummary {
  /** Human-readable name, e.g. `NVIDIA H100 80GB HBM3` or `llvmpipe (OpenGL ES 3.2 Mesa 22.3.6)`. */
  name: string;
  /** `hardware` for a real GPU, `software` for a CPU renderer (llvmpipe, lavapipe, SwiftShader, WARP). */
  type: 'hardware' | 'software';
  /** Same as `type === 'software'`, kept as a flag for callers that only branch on it. */
  software: boolean;
  /** The Dawn backend the adapter runs on. */
  dawnBackend: DawnBackend;
  /** WebGPU feature level the adapter was requested with (`compatibility` on OpenGL ES). */
  featureLevel: 'core' | 'compatibility';
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/**
 * Names of CPU renderers. lavapipe reports itself as `llvmpipe (LLVM …)` too; SwiftShader
 * is Chrome's Vulkan CPU renderer; WARP / "Microsoft Basic Render Driver" the D3D one.
 */
const SOFTWARE_PATTERN =
  /llvmpipe|lavapipe|softpipe|swiftshader|swrast|\bwarp\b|basic render|software/i;

/** Whether the adapter is a software (CPU) renderer. */
export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter === true) return true;
  const text = [info.vendor, info.architecture, info.device, info.description]
    .filter((s): s is string => typeof s === 'string')
    .join(' ');
  return SOFTWARE_PATTERN.test(text);
}

/**
 * A display name. Vulkan adapters put the marketing name in `device`
 * (`NVIDIA H100 80GB HBM3`); Dawn's OpenGL ES backend slugifies it
 * (`llvmpipe-llvm-15-0-6-256-bits-`) and puts the GL version in `description`,
 * so both are shown when they differ.
 */
export function adapterDisplayName(info: AdapterInfoLike): string {
  const device = (info.device ?? '').trim();
  const description = (info.description ?? '').trim();
  const vendor = (info.vendor ?? '').trim();
  const parts: string[] = [];
  if (device) parts.push(device);
  if (description && description !== device) parts.push(device ? `(${description})` : description);
  if (parts.length === 0 && vendor) parts.push(vendor);
  return parts.length > 0 ? parts.join(' ') : 'unnamed adapter';
}

/** Builds the summary that `tryWebgpu` returns and logs. */
export function summariseAdapter(
  info: AdapterInfoLike,
  dawnBackend: DawnBackend,
  featureLevel: 'core' | 'compatibility',
): WebgpuAdapterSummary {
  const software = isSoftwareAdapter(info);
  return {
    name: adapterDisplayName(info),
    type: software ? 'software' : 'hardware',
    software,
    dawnBackend,
    featureLevel,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
}

/** One log line: `NVIDIA H100 80GB HBM3 [hardware, vulkan]`. */
export function formatAdapter(a: WebgpuAdapterSummary): string {
  const level = a.featureLevel === 'compatibility' ? ', compatibility mode' : '';
  return `${a.name} [${a.type}, ${a.dawnBackend}${level}]`;
}
