/**
 * The row normalisers of the protocols, on row-major `[n, dim]` float32 arrays (copies):
 * unit L2 norm (k-NN, retrieval, copy detection; a zero row stays zero) and VOC07's
 * x / (‖x‖₂ + 1e-5) (§9.5).
 */

function scaleRows(x: Float32Array, dim: number, inv: (norm: number) => number): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || x.length % dim !== 0)
    throw new Error(`row normalisation: ${x.length} values is not a multiple of dim ${dim}`);
  const out = new Float32Array(x.length);
  for (let off = 0; off < x.length; off += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[off + j] * x[off + j];
    const f = inv(Math.sqrt(s));
    for (let j = 0; j < dim; j++) out[off + j] = x[off + j] * f;
  }
  return out;
}

/** Rows scaled to unit L2 norm (rows of norm below 1e-12 are divided by 1e-12, i.e. stay ≈ 0). */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  return scaleRows(x, dim, (n) => 1 / Math.max(n, 1e-12));
}

/** Rows divided by (‖x‖₂ + 1e-5), the reference's VOC07 feature normalisation (§9.5). */
export function vocNormalizeRows(x: Float32Array, dim: number): Float32Array {
  return scaleRows(x, dim, (n) => 1 / (n + 1e-5));
}
