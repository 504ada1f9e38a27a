/**
 * faiss's random numbers (faiss/utils/random.cpp), bit for bit: `RandomGenerator` is
 * C++'s std::mt19937 seeded with the low 32 bits of the seed, and `rand_perm` is its
 * Fisher–Yates shuffle. The exact k-means fallback (exactKmeans.ts) draws its subsample,
 * its initial centroids and its empty-cluster splits from these, so that it starts from
 * the very centroids faiss would and the two can be compared assignment for assignment.
 */

const N = 624;
const M = 397;

/** std::mt19937 (32-bit Mersenne Twister, the C++ standard's parameters). */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32-bit output, as an unsigned integer. */
  next(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/** mt19937's largest output, `mt.max()`. */
const MT_MAX = 0xffffffff;

/** faiss::RandomGenerator: the constructor takes an int64 seed and keeps its low 32 bits. */
export class FaissRandom {
  private readonly mt: Mt19937;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new Error(`FaissRandom: seed ${seed} is not an integer`);
    // (unsigned int)seed: the value modulo 2^32 (ToUint32 does exactly that).
    this.mt = new Mt19937(seed >>> 0);
  }

  /** `mt() % max`, for 1 ≤ max < 2^31. */
  randInt(max: number): number {
    return this.mt.next() % max;
  }

  /** `mt() / float(mt.max())` in float32 arithmetic (float(2^32 − 1) rounds to 2^32). */
  randFloat(): number {
    return Math.fround(Math.fround(this.mt.next()) / Math.fround(MT_MAX));
  }
}

/** faiss::rand_perm: a permutation of 0..n−1, shuffled with RandomGenerator(seed). */
export function randPerm(n: number, seed: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = new FaissRandom(seed);
  for (let i = 0; i + 1 < n; i++) {
    const j = i + rng.randInt(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
