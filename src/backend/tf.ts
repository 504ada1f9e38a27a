/**
 * The one place the kit gets TensorFlow.js from (DESIGN.md §4): every module imports
 * `tf` from here so that all share one engine, whichever backend package is loaded.
 * Backends register themselves with this engine in `selectBackend()`.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs umbrella does this import).
import '@tensorflow/tfjs-core/dist/register_all_gradients';

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
