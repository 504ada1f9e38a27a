/**
 * Start-up self-tests of the webgpu backend, run once by `tryWebgpu` on the adapter it
 * picked, with exact arithmetic so that a wrong kernel cannot hide behind a tolerance.
 *
 * Why: tfjs-backend-webgpu 4.22 picks `MatMulSplitKProgram` (partial sums combined with a
 * float atomic-add emulated by compare-exchange) for matrix products with a small output
 * and a long inner dimension (batch 1, inner ≥ 2000: e.g. the CARP head's
 * [B, 2048] × [2048, 256]). On Mesa llvmpipe through Dawn's OpenGL ES backend that program
 * returns garbage (relative error ≈ 1.4 for every shape tried) while the packed and
 * small-output programs are exact. Whether a given GPU driver is affected cannot be known
 * in advance, so it is tested; when wrong, the packed program is forced for all products
 * (`WEBGPU_MATMUL_PROGRAM_TYPE` = MatMulPackedProgram), which only costs speed on
 * small-output products.
 */
import { tf } from '../tf';

/** tfjs-backend-webgpu's `MatMulProgramType.MatMulPackedProgram` (webgpu_util.ts). */
export const MATMUL_PACKED_PROGRAM = 3;

/**
 * Values k/4 with k in −3…3: every product is a multiple of 1/16 and every sum of 2048
 * of them stays below 2^11, so float32 holds all partial sums exactly in any order.
 */
function exactValues(n: number, salt: number): Float32Array {
  const out = new Float32Array(n);
  // A multiplicative hash, so that no short period can hide an indexing error.
  for (let i = 0; i < n; i++) out[i] = (((Math.imul(i + salt * n, 0x9e3779b1) >>> 0) % 7) - 3) / 4;
  return out;
}

/** Reference product `a [m, k] × bᵀ` with `b [n, k]`, in float64 (exact here). */
function referenceProduct(a: Float32Array, b: Float32Array, m: number, k: number, n: number) {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[j * k + t];
      out[i * n + j] = s;
    }
  }
  return out;
}

/**
 * Whether a product of the split-K shape ([4, 2048] × [2048, 256], transposed B as in
 * `linear`) is exact on the active backend. Reads back asynchronously.
 */
export async function splitKMatMulIsExact(): Promise<boolean> {
  const [m, k, n] = [4, 2048, 256];
  const a = exactValues(m * k, 1);
  const b = exactValues(n * k, 2);
  const want = referenceProduct(a, b, m, k, n);
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [n, k]), false, true));
  const got = await c.data();
  c.dispose();
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return false;
  return true;
}

/**
 * Runs the self-tests on the active (webgpu) backend and applies workarounds.
 * Returns the workarounds applied (empty when every test passed); throws when a test
 * still fails after its workaround.
 */
export async function applyWebgpuWorkarounds(): Promise<string[]> {
  const applied: string[] = [];
  if (!(await splitKMatMulIsExact())) {
    tf.env().set('WEBGPU_MATMUL_PROGRAM_TYPE', MATMUL_PACKED_PROGRAM);
    if (!(await splitKMatMulIsExact())) {
      throw new Error('matMul is wrong on this adapter even with the packed program');
    }
    applied.push('split-K matMul wrong on this adapter: packed matMul program forced');
  }
  return applied;
}
