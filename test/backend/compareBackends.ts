/**
 * Shared by the wasm-vs-cpu gradient tests (gradients.test.ts, wasmTraining.test.ts):
 * run the same function with the same inputs on both backends and compare value and
 * gradients to float32 rounding (architecture §7.4). Not a test file itself.
 */
import { expect } from 'vitest';
import { tf } from '../../src/backend/tf';
import { loadNative } from '../../src/backend/native/addon';
import { useNativeKernels } from '../../src/backend/wasmKernels';
import { createRng } from '../../src/random';
import { expectClose, initTestBackend } from '../helpers/tensors';

/** A conv padding argument. */
export type Pad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

export type Fn = (...xs: tf.Tensor[]) => tf.Tensor;
export interface Input {
  shape: number[];
  /** 'normal' (default), 'ties' (small integers: many equal values), or fixed values. */
  values?: 'normal' | 'ties' | number[];
}

let seed = 1;
export function makeValues(input: Input): Float32Array {
  const n = input.shape.reduce((a, b) => a * b, 1);
  if (Array.isArray(input.values)) return Float32Array.from(input.values);
  const rng = createRng(seed++);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = input.values === 'ties' ? rng.int(3) : rng.normal();
  return out;
}

/**
 * Value of `f` and gradients of `Σ f(xs)·r` (r a fixed random cotangent) on one backend;
 * `Σ …·r` rather than a plain sum so every output element carries a different `dy`.
 */
async function valueAndGrads(
  backend: string,
  f: Fn,
  inputs: Float32Array[],
  shapes: number[][],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const y = f(...xs);
    const r = tf.cos(tf.reshape(tf.mul(tf.range(0, y.size), 0.731), y.shape));
    const g = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), r)))(xs);
    return [y, ...g];
  });
  const data = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return data;
}

export function scaleOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Asserts value and every input gradient of `f` agree between wasm and cpu. */
export async function compare(name: string, f: Fn, inputs: Input[], tol = 1e-4): Promise<void> {
  const values = inputs.map(makeValues);
  const shapes = inputs.map((i) => i.shape);
  const wasm = await valueAndGrads('wasm', f, values, shapes);
  const cpu = await valueAndGrads('cpu', f, values, shapes);
  await tf.setBackend('wasm');
  expectAllClose(wasm, cpu, (k) => `${name}: ${k === 0 ? 'value' : `grad of input ${k - 1}`}`, tol);
}

/** Asserts each of `actual` matches `reference` to `tol`·scale (no all-zero reference). */
export function expectAllClose(
  actual: Float32Array[],
  reference: Float32Array[],
  label: (k: number) => string,
  tol = 1e-4,
): void {
  reference.forEach((ref, k) => {
    expect(scaleOf(ref), `${label(k)} is all zero`).toBeGreaterThan(0);
    expectClose(actual[k], ref, {
      atol: tol * Math.max(1, scaleOf(ref)),
      rtol: tol,
      label: label(k),
    });
  });
}

/** wasm (with our kernels) as the active backend, cpu loaded for references. */
export async function initBothBackends(): Promise<void> {
  expect(await initTestBackend('wasm')).toBe('wasm');
  await import('@tensorflow/tfjs-backend-cpu');
}

/**
 * The wasm kernel sets a test runs under: the native (oneDNN) kernels where the addon
 * loads, and always our pure-wasm kernels (the path of machines without the addon).
 * CI sets CARP_REQUIRE_NATIVE=1, so a missing addon fails nativeKernels.test.ts instead
 * of silently dropping the native mode.
 */
export type KernelMode = 'native' | 'pure wasm';
export const KERNEL_MODES: KernelMode[] =
  loadNative().addon !== undefined ? ['native', 'pure wasm'] : ['pure wasm'];

/** Switches wasm to the kernels of `mode` (restore with `setKernelMode(KERNEL_MODES[0])`). */
export function setKernelMode(mode: KernelMode): void {
  useNativeKernels(mode === 'native');
}
