/**
 * Per-query top-k selection for the exact search fallback: for each query a binary heap
 * of its k best (score, id) pairs so far, whose root is the worst kept one, so that a
 * new score is rejected by one comparison in the common case (as faiss's result heaps).
 *
 * Order: `larger` (inner product) keeps the largest scores, otherwise the smallest
 * (squared L2). Equal scores rank by the lower id: bank rows arrive in id order and a
 * later equal score never displaces a kept one; the final sort breaks ties by id.
 */

export class TopK {
  readonly scores: Float32Array;
  readonly ids: Int32Array;

  /** `rows` heaps of size k, filled with the worst possible entries (id −1). */
  constructor(
    readonly rows: number,
    readonly k: number,
    readonly larger: boolean,
  ) {
    this.scores = new Float32Array(rows * k).fill(larger ? -Infinity : Infinity);
    this.ids = new Int32Array(rows * k).fill(-1);
  }

  /** Offers block scores: `block` is [rows, cols] row-major for bank ids firstId … firstId+cols−1. */
  offer(block: Float32Array, cols: number, firstId: number): void {
    const { k, larger, scores } = this;
    for (let r = 0; r < this.rows; r++) {
      const base = r * k;
      let worst = scores[base];
      const line = r * cols;
      for (let c = 0; c < cols; c++) {
        const s = block[line + c];
        // NaN fails both comparisons and is never kept.
        if (larger ? s > worst : s < worst) {
          this.replaceRoot(base, s, firstId + c);
          worst = scores[base];
        }
      }
    }
  }

  /** Replaces the root of heap `base` and sifts it down (root = worst kept entry). */
  private replaceRoot(base: number, score: number, id: number): void {
    const { k, larger, scores, ids } = this;
    // `a` is worse than `b`: lower score (larger mode) / higher score, ties → higher id.
    const worse = (sa: number, ia: number, sb: number, ib: number) =>
      sa === sb ? ia > ib : larger ? sa < sb : sa > sb;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= k) break;
      const r = l + 1;
      let child = l;
      if (r < k && worse(scores[base + r], ids[base + r], scores[base + l], ids[base + l]))
        child = r;
      if (!worse(scores[base + child], ids[base + child], score, id)) break;
      scores[base + i] = scores[base + child];
      ids[base + i] = ids[base + child];
      i = child;
    }
    scores[base + i] = score;
    ids[base + i] = id;
  }

  /** Writes each row's entries best first (ties: lower id first) into the outputs at `row0`. */
  sortedInto(outScores: Float32Array, outIds: Int32Array, row0: number): void {
    const { k, larger } = this;
    if (k === 1) {
      // One entry per row (k-means assignment): nothing to sort.
      outScores.set(this.scores, row0);
      outIds.set(this.ids, row0);
      return;
    }
    const order = Array.from({ length: k }, (_, j) => j);
    for (let r = 0; r < this.rows; r++) {
      const base = r * k;
      order.sort((a, b) => {
        const sa = this.scores[base + a];
        const sb = this.scores[base + b];
        if (sa !== sb) return larger ? sb - sa : sa - sb;
        return this.ids[base + a] - this.ids[base + b];
      });
      const out = (row0 + r) * k;
      for (let j = 0; j < k; j++) {
        outScores[out + j] = this.scores[base + order[j]];
        outIds[out + j] = this.ids[base + order[j]];
      }
      for (let j = 0; j < k; j++) order[j] = j;
    }
  }
}
