/**
 * Our gradient kernels for the wasm backend (ENVIRONMENT.md §4). Placeholder:
 * filled by the wasm-kernels work (Conv2DBackpropFilter, UnsortedSegmentSum, MaxPoolGrad).
 */
let registered = false;

/** Registers (once) the kernels that convnet training needs on wasm. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
}
