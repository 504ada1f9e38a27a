/**
 * The one place the kit gets TensorFlow.js from (architecture §4.1): every module imports
 * `tf` from here so that all share one engine, whichever backend package is loaded.
 * Backends register themselves with this engine in `selectBackend()`.
 *
 * Gradients: tfjs-core registers none by itself. Its `dist/register_all_gradients` is
 * ES-module code with extension-less imports that plain `node` cannot load (vitest can,
 * which hid the problem), so we load the `@tensorflow/tfjs` umbrella's CommonJS bundle,
 * which requires this same tfjs-core and registers every gradient on it (≈0.4 s once).
 */
import * as tf from '@tensorflow/tfjs-core';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('@tensorflow/tfjs');

export { tf };
export type {
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor3D,
  Tensor4D,
  Scalar,
  Variable,
} from '@tensorflow/tfjs-core';
