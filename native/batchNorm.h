// Batch norm in training mode over rows × channels (NHWC flattened), forward and backward.
//
// Every pass runs over the flat array in chunks of L = lcm(C, 16) values, with the
// per-channel constants repeated over the L lanes: the inner loops are 16 wide at compile
// time whatever C is. A per-row loop over C = 8 or 16 channels (the narrow networks)
// vectorised badly and ran at a third of the memory's speed.
#pragma once

#include <cmath>
#include <numeric>

#include "threads.h"

namespace carp {

/// Values per inner step (one AVX-512 register of floats).
constexpr int64_t LANE = 16;

/// Rows of a chunk and its width L = lcm(C, LANE): lane l holds channel l mod C.
struct Lanes {
  int64_t c, width, rowsPerChunk;
  explicit Lanes(int64_t channels)
      : c(channels), width(std::lcm(channels, LANE)), rowsPerChunk(width / channels) {}
  /// A per-channel vector repeated over the lanes.
  std::vector<float> spread(const float *perChannel) const {
    std::vector<float> out(width);
    for (int64_t l = 0; l < width; l++) out[l] = perChannel[l % c];
    return out;
  }
};

// Reductions run over REDUCE_BLOCKS fixed blocks of whole chunks (independent of the
// thread count), each summed in float, combined in double in block order, the rows after
// the last whole chunk last: deterministic and accurate.
constexpr int64_t REDUCE_BLOCKS = 64;

/// The chunks of reduction block b (of `blocks`, `step` chunks each).
struct ChunkSplit {
  int64_t chunks, blocks, step;
  ChunkSplit(const Lanes &ln, int64_t rows)
      : chunks(rows / ln.rowsPerChunk),
        blocks(std::min(REDUCE_BLOCKS, std::max<int64_t>(1, chunks))),
        step((chunks + blocks - 1) / blocks) {}
};

/// Σ of `Terms` per-value terms over all rows, folded to channels: out[t·C + j] (double).
/// term(i, lane, v) sets v[0 … Terms−1] for flat index i (lane = its position in a
/// chunk). The body runs LANE values at a time with the LANE partial sums in registers;
/// `term` must be a small lambda capturing plain pointers by value (no aliasing with
/// stores), so that the LANE-wide loop vectorises.
template <int Terms, typename T>
void reduceLanes(const Lanes &ln, int64_t rows, std::vector<double> &out, T term) {
  const int64_t L = ln.width;
  const ChunkSplit sp(ln, rows);
  // One more block of partial sums for the rows after the last whole chunk.
  std::vector<float> partial((sp.blocks + 1) * Terms * L, 0.f);
  float *part = partial.data();
  // ≥ 64 Ki values per thread, else inline.
  parallelFor(sp.blocks,
              std::max<int64_t>(1, ((int64_t(1) << 16) * sp.blocks) / std::max<int64_t>(1, rows * ln.c)),
              [=](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; b++) {
                  const int64_t k0 = b * sp.step, k1 = std::min(sp.chunks, (b + 1) * sp.step);
                  for (int64_t l = 0; l < L; l += LANE) {
                    float s[Terms][LANE] = {};
                    for (int64_t k = k0; k < k1; k++)
                      for (int t = 0; t < LANE; t++) {
                        float v[Terms];
                        term(k * L + l + t, l + t, v);
                        for (int q = 0; q < Terms; q++) s[q][t] += v[q];
                      }
                    for (int q = 0; q < Terms; q++)
                      for (int t = 0; t < LANE; t++) part[(b * Terms + q) * L + l + t] = s[q][t];
                  }
                }
              });
  // The tail: fewer than rowsPerChunk rows (< L values), one value at a time.
  const int64_t tail0 = sp.chunks * L, total = rows * ln.c;
  for (int64_t i = tail0; i < total; i++) {
    float v[Terms];
    term(i, i - tail0, v);
    for (int q = 0; q < Terms; q++) part[(sp.blocks * Terms + q) * L + (i - tail0)] += v[q];
  }
  out.assign(Terms * ln.c, 0.0);
  for (int64_t b = 0; b <= sp.blocks; b++)
    for (int q = 0; q < Terms; q++)
      for (int64_t l = 0; l < L; l++) out[q * ln.c + l % ln.c] += part[(b * Terms + q) * L + l];
}

/// Runs elem(i, lane) for every flat index i in parallel, LANE at a time over whole
/// chunks, then the tail one at a time. `elem` captures plain pointers by value.
template <typename E>
void mapLanes(const Lanes &ln, int64_t rows, E elem) {
  const int64_t L = ln.width, chunks = rows / ln.rowsPerChunk;
  parallelFor(chunks, std::max<int64_t>(1, (int64_t(1) << 16) / L), [=](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; k++)
      for (int64_t l = 0; l < L; l += LANE)
#pragma GCC ivdep
        for (int t = 0; t < LANE; t++) elem(k * L + l + t, l + t);
  });
  const int64_t tail0 = chunks * L, total = rows * ln.c;
  for (int64_t i = tail0; i < total; i++) elem(i, i - tail0);
}

/// y = γ·(x − μ)/√(σ² + ε) + β with the batch mean μ and biased variance σ². The
/// statistics come from one pass of shifted sums, Σ(x − s) and Σ(x − s)², s = the first
/// row: with s a value of the channel's own distribution the difference of the two terms
/// does not cancel as the plain Σx² − (Σx)²/N does under a large mean, and the pass over x
/// it saves is a quarter of the forward's memory traffic at narrow widths.
/// Fused epilogues of a ResNet block: `residual` (non-null) is added, then with `relu`
/// y = max(0, …). Templates so that each inner loop stays branch-free (vectorised).
template <bool Residual, bool Relu>
void bnForwardImpl(const float *x, const float *gamma, const float *beta, const float *residual,
                   float *y, float *mean, float *var, int64_t rows, int64_t c, double eps) {
  const Lanes ln(c);
  const std::vector<float> shiftL = ln.spread(x);  // the first row, over the lanes
  const float *sh = shiftL.data();
  std::vector<double> sums;
  reduceLanes<2>(ln, rows, sums, [x, sh](int64_t i, int64_t l, float *v) {
    const float d = x[i] - sh[l];
    v[0] = d;
    v[1] = d * d;
  });
  std::vector<float> mu(c), scale(c);
  for (int64_t j = 0; j < c; j++) {
    const double n = double(rows), d = sums[j] / n;
    const double v = std::max(0.0, sums[c + j] / n - d * d);
    mu[j] = float(double(x[j]) + d);
    mean[j] = mu[j];
    var[j] = float(v);
    scale[j] = float(double(gamma[j]) / std::sqrt(v + eps));
  }
  const std::vector<float> muL = ln.spread(mu.data());
  const float *m = muL.data();
  const std::vector<float> scaleL = ln.spread(scale.data()), betaL = ln.spread(beta);
  const float *sc = scaleL.data(), *be = betaL.data();
  // (x − μ)·scale + β, not x·scale + (β − μ·scale): under a large mean the latter cancels
  // (PyTorch's formula, too).
  mapLanes(ln, rows, [x, m, sc, be, residual, y](int64_t i, int64_t l) {
    float v = (x[i] - m[l]) * sc[l] + be[l];
    if (Residual) v += residual[i];
    if (Relu) v = v > 0.f ? v : 0.f;
    y[i] = v;
  });
}

inline void bnForward(const float *x, const float *gamma, const float *beta, const float *residual,
                      float *y, float *mean, float *var, int64_t rows, int64_t c, double eps,
                      bool relu) {
  if (residual && relu)
    bnForwardImpl<true, true>(x, gamma, beta, residual, y, mean, var, rows, c, eps);
  else if (residual)
    bnForwardImpl<true, false>(x, gamma, beta, residual, y, mean, var, rows, c, eps);
  else if (relu)
    bnForwardImpl<false, true>(x, gamma, beta, residual, y, mean, var, rows, c, eps);
  else
    bnForwardImpl<false, false>(x, gamma, beta, residual, y, mean, var, rows, c, eps);
}

/// Evaluation mode: y = x·scale + shift per channel (scale = γ/√(running σ² + ε), shift =
/// β − running μ·scale, computed by the caller, PyTorch's formula), then the fused
/// epilogues as bnForward: `residual` added, `relu`. One pass, no reduction: the same
/// result at any thread count.
template <bool Residual, bool Relu>
void bnInferenceImpl(const float *x, const float *scale, const float *shift, const float *residual,
                     float *y, int64_t rows, int64_t c) {
  const Lanes ln(c);
  const std::vector<float> scaleL = ln.spread(scale), shiftL = ln.spread(shift);
  const float *sc = scaleL.data(), *sh = shiftL.data();
  mapLanes(ln, rows, [x, sc, sh, residual, y](int64_t i, int64_t l) {
    float v = x[i] * sc[l] + sh[l];
    if (Residual) v += residual[i];
    if (Relu) v = v > 0.f ? v : 0.f;
    y[i] = v;
  });
}

inline void bnInference(const float *x, const float *scale, const float *shift,
                        const float *residual, float *y, int64_t rows, int64_t c, bool relu) {
  if (residual && relu)
    bnInferenceImpl<true, true>(x, scale, shift, residual, y, rows, c);
  else if (residual)
    bnInferenceImpl<true, false>(x, scale, shift, residual, y, rows, c);
  else if (relu)
    bnInferenceImpl<false, true>(x, scale, shift, residual, y, rows, c);
  else
    bnInferenceImpl<false, false>(x, scale, shift, residual, y, rows, c);
}

/// dβ = Σdy, dγ = Σdy·x̂, dx = γ·inv·(dy − dβ/N − x̂·dγ/N) with x̂ = (x − μ)·inv. With the
/// fused ReLU (`Relu`, its output `reluY`), dy first passes ReLU's gradient: 0 where y ≤ 0;
/// that is also the gradient of a fused residual, written to `dresidual` when non-null.
template <bool Relu, bool DResidual>
void bnBackwardImpl(const float *dy, const float *x, const float *mean, const float *var,
                    const float *gamma, const float *reluY, float *dx, float *dgamma, float *dbeta,
                    float *dresidual, int64_t rows, int64_t c, double eps) {
  const Lanes ln(c);
  std::vector<float> inv(c);
  for (int64_t j = 0; j < c; j++) inv[j] = float(1.0 / std::sqrt(double(var[j]) + eps));
  const std::vector<float> meanL = ln.spread(mean);
  const float *m = meanL.data();
  // One pass, two sums: Σdy and Σdy·(x − μ).
  std::vector<double> both;
  reduceLanes<2>(ln, rows, both, [dy, x, m, reluY](int64_t i, int64_t l, float *v) {
    const float dv = dy[i];  // loaded unconditionally: the select vectorises
    const float d = Relu ? (reluY[i] > 0.f ? dv : 0.f) : dv;
    v[0] = d;
    v[1] = d * (x[i] - m[l]);
  });
  std::vector<float> a(c), b(c), k(c);
  const double n = double(rows);
  for (int64_t j = 0; j < c; j++) {
    double db = both[j], dg = both[c + j] * inv[j];
    dbeta[j] = float(db);
    dgamma[j] = float(dg);
    // dx = g·dy + k·(x − μ) + b with g = γ·inv, k = −γ·inv²·dγ/N, b = −γ·inv·dβ/N.
    a[j] = gamma[j] * inv[j];
    k[j] = float(-double(gamma[j]) * inv[j] * inv[j] * dg / n);
    b[j] = float(-double(gamma[j]) * inv[j] * db / n);
  }
  const std::vector<float> aL = ln.spread(a.data()), kL = ln.spread(k.data()),
                           bL = ln.spread(b.data());
  const float *ap = aL.data(), *kp = kL.data(), *bp = bL.data();
  mapLanes(ln, rows, [=](int64_t i, int64_t l) {
    const float dv = dy[i];
    const float d = Relu ? (reluY[i] > 0.f ? dv : 0.f) : dv;
    dx[i] = ap[l] * d + kp[l] * (x[i] - m[l]) + bp[l];
    if (DResidual) dresidual[i] = d;
  });
}

/// Batch-norm backward; `reluY` non-null: with the fused ReLU whose output it is;
/// `dresidual` non-null: also the gradient of the fused residual.
inline void bnBackward(const float *dy, const float *x, const float *mean, const float *var,
                       const float *gamma, const float *reluY, float *dx, float *dgamma,
                       float *dbeta, float *dresidual, int64_t rows, int64_t c, double eps) {
  if (reluY && dresidual)
    bnBackwardImpl<true, true>(dy, x, mean, var, gamma, reluY, dx, dgamma, dbeta, dresidual, rows,
                               c, eps);
  else if (reluY)
    bnBackwardImpl<true, false>(dy, x, mean, var, gamma, reluY, dx, dgamma, dbeta, dresidual,
                                rows, c, eps);
  else if (dresidual)
    bnBackwardImpl<false, true>(dy, x, mean, var, gamma, reluY, dx, dgamma, dbeta, dresidual,
                                rows, c, eps);
  else
    bnBackwardImpl<false, false>(dy, x, mean, var, gamma, reluY, dx, dgamma, dbeta, dresidual,
                                 rows, c, eps);
}

}  // namespace carp
