/**
 * Maximum-weight one-to-one matching on a sparse bipartite graph: the linear assignment
 * behind the Hungarian-matched clustering accuracy (spec §9.3, [JUDGEMENT]).
 *
 * Algorithm: the Hungarian method in its shortest-augmenting-path form (Kuhn–Munkres with
 * Dijkstra and row/column potentials, as in Jonker & Volgenant 1987 / the e-maxx
 * formulation), run on sparse edges. Every row gets a private zero-weight "unmatched"
 * column, so a row-perfect matching always exists and a zero-weight pairing (never
 * better than leaving the row unmatched) needs no edge. Cost: one Dijkstra per row,
 * O(R · E log E) with E = number of positive entries + R — so a 1000-class × 65 536-
 * prototype contingency table with ≤ N non-zeros stays cheap, where a dense O(n³)
 * Hungarian would not.
 */

export interface Matching {
  /** Column matched to each row, or −1 when the row stays unmatched. */
  rowToCol: Int32Array;
  /** Sum of the matched weights (the maximum). */
  total: number;
}

/** Binary min-heap of (key, id) pairs with lazy deletion by the caller. */
class MinHeap {
  private keys: number[] = [];
  private ids: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(key: number, id: number): void {
    const { keys, ids } = this;
    let i = keys.length;
    keys.push(key);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }
  /** Removes the minimum; returns [key, id]. */
  pop(): [number, number] {
    const { keys, ids } = this;
    const top: [number, number] = [keys[0], ids[0]];
    const lastKey = keys.pop() as number;
    const lastId = ids.pop() as number;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && keys[child + 1] < keys[child]) child++;
        if (keys[child] >= lastKey) break;
        keys[i] = keys[child];
        ids[i] = ids[child];
        i = child;
      }
      keys[i] = lastKey;
      ids[i] = lastId;
    }
    return top;
  }
}

/**
 * Maximum-weight matching: each row and each column used at most once.
 *
 * @param numRows R. @param numCols C.
 * @param rows, cols, weights the edges (parallel arrays); weights ≤ 0 are ignored
 *   (leaving a row unmatched is as good). Duplicate (row, col) edges keep the largest.
 */
export function maxWeightMatching(
  numRows: number,
  numCols: number,
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  weights: ArrayLike<number>,
): Matching {
  if (rows.length !== cols.length || rows.length !== weights.length) {
    throw new Error('maxWeightMatching: rows, cols and weights must have the same length');
  }
  // Adjacency (CSR) with costs = −weight; column numCols + r is row r's private dummy.
  const degree = new Int32Array(numRows + 1);
  for (let e = 0; e < rows.length; e++) {
    const r = rows[e];
    const c = cols[e];
    if (!(r >= 0 && r < numRows && c >= 0 && c < numCols)) {
      throw new Error(`maxWeightMatching: edge ${e} (${r}, ${c}) outside ${numRows}×${numCols}`);
    }
    if (weights[e] > 0) degree[r + 1]++;
  }
  for (let r = 0; r < numRows; r++) degree[r + 1] += degree[r] + 1; // +1: the dummy
  const start = degree;
  const fill = start.slice(0, numRows);
  const adjCol = new Int32Array(start[numRows]);
  const adjCost = new Float64Array(start[numRows]);
  for (let e = 0; e < rows.length; e++) {
    if (!(weights[e] > 0)) continue;
    const slot = fill[rows[e]]++;
    adjCol[slot] = cols[e];
    adjCost[slot] = -weights[e];
  }
  for (let r = 0; r < numRows; r++) {
    adjCol[fill[r]] = numCols + r;
    adjCost[fill[r]] = 0;
  }

  const totalCols = numCols + numRows;
  // Potentials with reduced cost c − u[r] − v[c] ≥ 0 on every edge (0 on matched edges).
  // Free columns keep v = 0 throughout (only matched or just-matched columns change), so
  // the reduced distances to different free columns compare true path costs — the
  // invariant of the e-maxx formulation. Rows start at their cheapest edge.
  const u = new Float64Array(numRows);
  const v = new Float64Array(totalCols);
  for (let r = 0; r < numRows; r++) {
    for (let i = start[r]; i < start[r + 1]; i++) u[r] = Math.min(u[r], adjCost[i]);
  }
  const rowToCol = new Int32Array(numRows).fill(-1);
  const colToRow = new Int32Array(totalCols).fill(-1);
  const dist = new Float64Array(totalCols).fill(Infinity);
  const pred = new Int32Array(totalCols); // row from which each column was reached
  const done = new Uint8Array(totalCols);
  const touched: number[] = [];

  for (let s = 0; s < numRows; s++) {
    // Dijkstra over alternating paths from free row s to the nearest free column.
    const heap = new MinHeap();
    const relax = (row: number, base: number) => {
      for (let i = start[row]; i < start[row + 1]; i++) {
        const c = adjCol[i];
        if (done[c]) continue;
        const d = base + adjCost[i] - u[row] - v[c];
        if (d < dist[c]) {
          if (dist[c] === Infinity) touched.push(c);
          dist[c] = d;
          pred[c] = row;
          heap.push(d, c);
        }
      }
    };
    relax(s, 0);
    const finalized: number[] = [];
    let free = -1;
    let reach = 0;
    while (heap.size > 0) {
      const [d, c] = heap.pop();
      if (done[c] || d > dist[c]) continue;
      done[c] = 1;
      finalized.push(c);
      if (colToRow[c] < 0) {
        free = c;
        reach = d;
        break;
      }
      relax(colToRow[c], d);
    }
    if (free < 0) throw new Error('maxWeightMatching: internal error, no augmenting path');
    // Potential update keeps reduced costs ≥ 0 and makes the path tight.
    u[s] += reach;
    for (const c of finalized) {
      const slack = reach - dist[c];
      v[c] -= slack;
      if (c !== free) u[colToRow[c]] += slack;
    }
    // Augment along the path.
    for (let c = free; ;) {
      const r = pred[c];
      const previous = rowToCol[r];
      rowToCol[r] = c;
      colToRow[c] = r;
      if (r === s) break;
      c = previous;
    }
    for (const c of touched) {
      dist[c] = Infinity;
      done[c] = 0;
    }
    touched.length = 0;
  }

  // Read the matching back; dummy columns mean "unmatched".
  const best = new Map<number, number>();
  for (let i = 0; i < rows.length; i++) {
    const key = rows[i] * numCols + cols[i];
    best.set(key, Math.max(best.get(key) ?? 0, weights[i]));
  }
  let total = 0;
  for (let r = 0; r < numRows; r++) {
    if (rowToCol[r] >= numCols) rowToCol[r] = -1;
    else total += best.get(r * numCols + rowToCol[r]) ?? 0;
  }
  return { rowToCol, total };
}
