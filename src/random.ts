/**
 * Seeded random numbers (architecture §6.3): library code never calls Math.random.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state held as four uint32 words,
 * seeded through splitmix32 so that nearby seeds give unrelated streams. The state can
 * be saved and restored exactly, which the trainer's bit-for-bit resume relies on.
 */

export interface RngState {
  /** The four 32-bit words of the xoshiro128** state. */
  s: [number, number, number, number];
  /** Cached second normal deviate of the Box–Muller pair (null when none). */
  spareNormal: number | null;
}

export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1) with 32 random bits. */
  next(): number;
  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [0, n) (unbiased, rejection sampling). */
  int(n: number): number;
  /** Standard normal deviate (Box–Muller). */
  normal(): number;
  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T;
  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array;
  /** A new independent generator derived from this one (advances this one). */
  fork(): Rng;
  /** A 32-bit seed for APIs that take a number (tfjs random ops, faiss). */
  seed32(): number;
  /** Snapshot of the full state (plain JSON). */
  getState(): RngState;
  /** Restores a snapshot taken with `getState()`. */
  setState(state: RngState): void;
}

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Creates a deterministic generator from an integer seed. */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new Error(`createRng: seed must be an integer, got ${seed}`);
  }
  // Fold the seed into 32 bits (negative and > 2^32 seeds stay distinct from small ones).
  const sm = splitmix32((seed >>> 0) ^ Math.floor(seed / 2 ** 32));
  const s = new Uint32Array([sm(), sm(), sm(), sm()]);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1; // xoshiro's state must not be all zero
  let spareNormal: number | null = null;

  const rng: Rng = {
    nextUint32() {
      const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
      const t = (s[1] << 9) >>> 0;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11);
      return result;
    },
    next() {
      return rng.nextUint32() / 2 ** 32;
    },
    uniform(lo, hi) {
      return lo + (hi - lo) * rng.next();
    },
    int(n) {
      if (!Number.isInteger(n) || n <= 0 || n > 2 ** 32) {
        throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
      }
      // Rejection sampling removes the modulo bias.
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const x = rng.nextUint32();
        if (x < limit) return x % n;
      }
    },
    normal() {
      if (spareNormal !== null) {
        const v = spareNormal;
        spareNormal = null;
        return v;
      }
      let u = 0;
      while (u === 0) u = rng.next();
      const v = rng.next();
      const r = Math.sqrt(-2 * Math.log(u));
      spareNormal = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    shuffle(a) {
      for (let i = a.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const tmp = a[i];
        a[i] = a[j];
        a[j] = tmp;
      }
      return a;
    },
    permutation(n) {
      const p = new Int32Array(n);
      for (let i = 0; i < n; i++) p[i] = i;
      return rng.shuffle(p);
    },
    fork() {
      return createRng(rng.nextUint32() * 2 ** 21 + (rng.nextUint32() >>> 11));
    },
    seed32() {
      return rng.nextUint32();
    },
    getState() {
      return { s: [s[0], s[1], s[2], s[3]], spareNormal };
    },
    setState(state) {
      if (!state || !Array.isArray(state.s) || state.s.length !== 4) {
        throw new Error('Rng.setState: expected { s: [4 uint32], spareNormal }');
      }
      for (let i = 0; i < 4; i++) s[i] = state.s[i] >>> 0;
      spareNormal = state.spareNormal ?? null;
    },
  };
  return rng;
}
