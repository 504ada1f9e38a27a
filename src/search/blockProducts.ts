/**
 * Inner products of a block of queries with a block of bank rows, Q·Bᵀ, for the exact
 * search fallback (exactIndex.ts): on the kit's native OpenBLAS addon when it is loaded
 * (the same SGEMM faiss calls), else on TensorFlow.js's matMul (the current backend: on
 * wasm that is XNNPACK, or the native kernels when the addon is registered there).
 *
 * The addon's matMul works on byte offsets inside one Uint8Array "heap" (it was written
 * for the wasm backend's memory), so this keeps one scratch buffer laid out as
 * [queries | bank block | products] and copies the blocks in: one copy of each bank
 * block per query chunk, ≈ 1/(2·queries per chunk) of the SGEMM's work.
 */
import { loadNative, type NativeAddon } from '../backend/native/addon';
import { tf } from '../backend/tf';

/** Which engine computes the products. */
export type ProductEngine = 'openblas' | 'tfjs';

/** Computes Q·Bᵀ for one query block against successive bank blocks. */
export interface BlockProducts {
  readonly engine: ProductEngine;
  /** Sets the query block ([rows, dim] row-major) for the following `products` calls. */
  setQueries(q: Float32Array, rows: number): void;
  /**
   * [queryRows, bankRows] row-major products with `bank` ([bankRows, dim]); the returned
   * view is overwritten by the next call.
   */
  products(bank: Float32Array, bankRows: number): Float32Array;
  /** Frees the scratch memory (and, on tfjs, the query tensor). */
  dispose(): void;
}

/**
 * Threads of the OpenBLAS products (undefined: the native kernels' own count, CARP_THREADS).
 * Set through setFaissThreads when faiss is not there; restored after each product so the
 * training kernels keep theirs.
 */
let productThreads: number | undefined;

export function setProductThreads(n: number): void {
  productThreads = n;
}

/** The thread count the OpenBLAS products use (1 on the tfjs engine, which has its own). */
export function getProductThreads(): number {
  return productThreads ?? loadNative().addon?.getThreads() ?? 1;
}

/** Native engine: OpenBLAS SGEMM on a private scratch heap. */
class OpenBlasProducts implements BlockProducts {
  readonly engine = 'openblas' as const;
  private readonly heap: Uint8Array;
  private readonly floats: Float32Array;
  private queryRows = 0;

  constructor(
    private readonly addon: NativeAddon,
    private readonly dim: number,
    private readonly maxQueries: number,
    private readonly maxBank: number,
  ) {
    const n = dim * maxQueries + dim * maxBank + maxQueries * maxBank;
    this.heap = new Uint8Array(n * 4);
    this.floats = new Float32Array(this.heap.buffer);
  }

  setQueries(q: Float32Array, rows: number): void {
    if (rows > this.maxQueries)
      throw new Error(`BlockProducts: ${rows} queries > ${this.maxQueries}`);
    this.floats.set(q.subarray(0, rows * this.dim), 0);
    this.queryRows = rows;
  }

  products(bank: Float32Array, bankRows: number): Float32Array {
    if (bankRows > this.maxBank)
      throw new Error(`BlockProducts: ${bankRows} rows > ${this.maxBank}`);
    const bankAt = this.dim * this.maxQueries;
    const outAt = bankAt + this.dim * this.maxBank;
    this.floats.set(bank.subarray(0, bankRows * this.dim), bankAt);
    const m = this.queryRows;
    const previous = this.addon.getThreads();
    if (productThreads !== undefined) this.addon.setThreads(productThreads);
    try {
      // c = a · bᵀ: a [m, dim], b [bankRows, dim] (transposeB = 1).
      this.addon.matMul(this.heap, 0, bankAt * 4, outAt * 4, 1, 1, m, bankRows, this.dim, 0, 1);
    } finally {
      this.addon.setThreads(previous);
    }
    return this.floats.subarray(outAt, outAt + m * bankRows);
  }

  dispose(): void {
    this.queryRows = 0;
  }
}

/** Portable engine: tf.matMul on the current TensorFlow.js backend. */
class TfjsProducts implements BlockProducts {
  readonly engine = 'tfjs' as const;
  private queries: ReturnType<typeof tf.tensor2d> | null = null;

  constructor(private readonly dim: number) {}

  setQueries(q: Float32Array, rows: number): void {
    this.queries?.dispose();
    this.queries = tf.tensor2d(q.slice(0, rows * this.dim), [rows, this.dim]);
  }

  products(bank: Float32Array, bankRows: number): Float32Array {
    const q = this.queries;
    if (!q) throw new Error('BlockProducts: products() before setQueries()');
    const out = tf.tidy(() =>
      tf.matMul(
        q,
        tf.tensor2d(bank.subarray(0, bankRows * this.dim), [bankRows, this.dim]),
        false,
        true,
      ),
    );
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.queries?.dispose();
    this.queries = null;
  }
}

/**
 * The product engine for blocks of at most `maxQueries` × `maxBank` rows: OpenBLAS when
 * the native addon loads (unless `engine` asks for tfjs), else tfjs.
 */
export function blockProducts(
  dim: number,
  maxQueries: number,
  maxBank: number,
  engine?: ProductEngine,
): BlockProducts {
  if (engine !== 'tfjs') {
    const { addon, reason } = loadNative();
    if (addon) return new OpenBlasProducts(addon, dim, maxQueries, maxBank);
    if (engine === 'openblas')
      throw new Error(`the native OpenBLAS addon is unavailable: ${reason}`);
  }
  return new TfjsProducts(dim);
}

/** The engine `blockProducts` would pick now, without allocating. */
export function defaultProductEngine(): ProductEngine {
  return loadNative().addon ? 'openblas' : 'tfjs';
}
