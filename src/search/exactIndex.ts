/**
 * Exact (brute-force) inner-product / squared-L2 index in TypeScript: the fallback behind
 * `FlatIndex` where the faiss binding is not built (or CARP_FAISS=0). Same contract as
 * the binding's IndexFlatIP / IndexFlatL2, and the same computation as faiss's BLAS path
 * (faiss/utils/distances.cpp, exhaustive_*_blas): queries in blocks of 4096 against bank
 * blocks of 1024 rows, products by SGEMM (blockProducts.ts), squared L2 as
 * ‖q‖² + ‖b‖² − 2·q·b clamped at 0, and a k-heap per query (topK.ts). Ties rank by the
 * lower id.
 */
import { blockProducts, type BlockProducts, type ProductEngine } from './blockProducts';
import { TopK } from './topK';

/** faiss's distance_compute_blas_query_bs and _database_bs. */
export const QUERY_BLOCK = 4096;
export const BANK_BLOCK = 1024;

/** Squared norm of row i of x, accumulated in float64 and rounded to float32. */
function squaredNorm(x: Float32Array, i: number, dim: number): number {
  let s = 0;
  for (let t = i * dim, end = t + dim; t < end; t++) s += x[t] * x[t];
  return Math.fround(s);
}

export class ExactIndex {
  private data: Float32Array;
  private norms: Float32Array;
  private count = 0;
  private engine: { products: BlockProducts; maxQueries: number } | null = null;

  constructor(
    readonly dim: number,
    readonly metric: 'ip' | 'l2',
    private readonly productEngine?: ProductEngine,
  ) {
    this.data = new Float32Array(0);
    this.norms = new Float32Array(0);
  }

  ntotal(): number {
    return this.count;
  }

  getDimension(): number {
    return this.dim;
  }

  /** Grows the storage to hold `rows` vectors (exactly that many). */
  private resize(rows: number): void {
    const data = new Float32Array(rows * this.dim);
    data.set(this.data.subarray(0, this.count * this.dim));
    const norms = new Float32Array(rows);
    norms.set(this.norms.subarray(0, this.count));
    this.data = data;
    this.norms = norms;
  }

  reserve(n: number): void {
    if (n > this.norms.length) this.resize(n);
  }

  add(x: Float32Array): void {
    const n = x.length / this.dim;
    const need = this.count + n;
    if (need > this.norms.length) this.resize(Math.max(need, 2 * this.norms.length));
    this.data.set(x, this.count * this.dim);
    if (this.metric === 'l2')
      for (let i = 0; i < n; i++) this.norms[this.count + i] = squaredNorm(x, i, this.dim);
    this.count = need;
  }

  private productsFor(queries: number): BlockProducts {
    const want = Math.min(QUERY_BLOCK, queries);
    if (!this.engine || this.engine.maxQueries < want) {
      this.engine?.products.dispose();
      const products = blockProducts(this.dim, want, BANK_BLOCK, this.productEngine);
      this.engine = { products, maxQueries: want };
    }
    return this.engine.products;
  }

  /** k best rows per query, best first, written into outD / outI ([nq, k] row-major). */
  search(
    q: Float32Array,
    k: number,
    outD: Float32Array = new Float32Array((q.length / this.dim) * k),
    outI: Int32Array = new Int32Array((q.length / this.dim) * k),
  ): { distances: Float32Array; labels: Int32Array } {
    const { dim, count } = this;
    const nq = q.length / dim;
    if (!Number.isInteger(k) || k < 1 || k > count)
      throw new Error(`search: k must be in [1, ntotal = ${count}], got ${k}.`);
    const products = this.productsFor(nq);
    const l2 = this.metric === 'l2';
    for (let q0 = 0; q0 < nq; q0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, nq - q0);
      const block = q.subarray(q0 * dim, (q0 + rows) * dim);
      products.setQueries(block, rows);
      const qNorms = new Float32Array(rows);
      if (l2) for (let i = 0; i < rows; i++) qNorms[i] = squaredNorm(block, i, dim);
      const heap = new TopK(rows, k, !l2);
      for (let b0 = 0; b0 < count; b0 += BANK_BLOCK) {
        const cols = Math.min(BANK_BLOCK, count - b0);
        const ip = products.products(this.data.subarray(b0 * dim, (b0 + cols) * dim), cols);
        if (l2) {
          // faiss: float dis = x_norms[i] + y_norms[j] − 2·ip, negative round-off → 0.
          for (let i = 0; i < rows; i++)
            for (let j = 0; j < cols; j++) {
              const d = Math.fround(
                Math.fround(qNorms[i] + this.norms[b0 + j]) - 2 * ip[i * cols + j],
              );
              ip[i * cols + j] = d < 0 ? 0 : d;
            }
        }
        heap.offer(ip, cols, b0);
      }
      heap.sortedInto(outD, outI, q0);
    }
    return { distances: outD, labels: outI };
  }

  /** Removes every vector but keeps the storage and scratch (k-means re-adds its centroids). */
  reset(): void {
    this.count = 0;
  }

  /** Frees the storage and scratch now; the index stays usable (empty). */
  release(): void {
    this.data = new Float32Array(0);
    this.norms = new Float32Array(0);
    this.count = 0;
    this.engine?.products.dispose();
    this.engine = null;
  }
}
