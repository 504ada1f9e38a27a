/**
 * Runs a test file's describe blocks on both the `cpu` reference backend and `wasm`
 * (our default), switching the one engine between them (architecture §4.2: every gradient
 * is checked against cpu).
 */
import { tf } from '../../src/backend/tf';
import { initTestBackend } from '../helpers/tensors';
import { registerWasmKernels } from '../../src/backend/wasmKernels';

export const TEST_BACKENDS = ['cpu', 'wasm'] as const;

/** Makes `name` the active backend (registers it on first use). */
export async function useBackend(name: (typeof TEST_BACKENDS)[number]): Promise<void> {
  await initTestBackend('cpu');
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    registerWasmKernels();
  }
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`);
}
