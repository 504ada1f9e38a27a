/** Test helpers: backend set-up and tensor-leak checks. */
import { expect } from 'vitest';
import { tf } from '../../src/backend/tf';
import { selectBackend } from '../../src/backend/selectBackend';

/** Initialises the kit's backend for a test file (wasm on this machine unless CARP_BACKEND says otherwise). */
export async function initTestBackend(name?: 'wasm' | 'cpu'): Promise<string> {
  const choice = await selectBackend({
    env: name ? { CARP_BACKEND: name } : process.env,
    log: () => {},
  });
  return choice.backend;
}

/** Runs `fn` and asserts the number of live tensors is unchanged afterwards. */
export async function expectNoLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  expect(tf.memory().numTensors, 'tensor leak').toBe(before);
  return out;
}

/** Element-wise closeness with absolute + relative tolerance, reporting the worst index. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { atol?: number; rtol?: number; label?: string } = {},
): void {
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  expect(actual.length, `${opts.label ?? 'array'} length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const excess = err - (atol + rtol * Math.abs(expected[i]));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${opts.label ?? 'array'}[${worst}] = ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}
