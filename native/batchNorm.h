// Batch norm in training mode over rows × channels (NHWC flattened), forward and backward.
#pragma once

#include <cmath>

#include "threads.h"

namespace carp {

// ---------------------------------------------------------------------------------------
// Batch norm (training mode) over rows × channels (NHWC flattened).

// Rows are reduced in REDUCE_BLOCKS fixed blocks (independent of the thread count), each
// summed in float, combined in double in block order: deterministic and accurate.
constexpr int64_t REDUCE_BLOCKS = 64;

/// Per-block partial sums of f(row, channel) → out[C] (double).
template <typename F>
void reduceRows(int64_t rows, int64_t c, std::vector<double> &out, F f) {
  int64_t blocks = std::min(REDUCE_BLOCKS, std::max<int64_t>(1, rows));
  int64_t step = (rows + blocks - 1) / blocks;
  std::vector<float> partial(blocks * c, 0.f);
  // ≥ 64 Ki values per thread (rows · channels), else inline.
  parallelFor(blocks,
              std::max<int64_t>(1, ((int64_t(1) << 16) * blocks) / std::max<int64_t>(1, rows * c)),
              [&](int64_t b0, int64_t b1) {
                for (int64_t b = b0; b < b1; b++) {
                  float *acc = partial.data() + b * c;
                  for (int64_t r = b * step; r < std::min(rows, (b + 1) * step); r++) f(r, acc);
                }
              });
  out.assign(c, 0.0);
  for (int64_t b = 0; b < blocks; b++)
    for (int64_t j = 0; j < c; j++) out[j] += partial[b * c + j];
}

/// y = γ·(x − μ)/√(σ² + ε) + β with the batch mean μ and biased variance σ² (two passes).
/// Fused epilogues of a ResNet block: `residual` (non-null) is added, then with `relu`
/// y = max(0, …).
inline void bnForward(const float *x, const float *gamma, const float *beta, const float *residual,
                      float *y, float *mean, float *var, int64_t rows, int64_t c, double eps,
                      bool relu) {
  std::vector<double> sum, sq;
  reduceRows(rows, c, sum, [&](int64_t r, float *acc) {
    const float *xr = x + r * c;
    for (int64_t j = 0; j < c; j++) acc[j] += xr[j];
  });
  std::vector<float> mu(c), scale(c);
  for (int64_t j = 0; j < c; j++) mu[j] = float(sum[j] / double(rows));
  reduceRows(rows, c, sq, [&](int64_t r, float *acc) {
    const float *xr = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      float d = xr[j] - mu[j];
      acc[j] += d * d;
    }
  });
  for (int64_t j = 0; j < c; j++) {
    double v = sq[j] / double(rows);
    mean[j] = mu[j];
    var[j] = float(v);
    scale[j] = float(double(gamma[j]) / std::sqrt(v + eps));
  }
  // (x − μ)·scale + β, not x·scale + (β − μ·scale): under a large mean the latter cancels
  // (PyTorch's formula, too).
  parallelFor(rows, std::max<int64_t>(16, (int64_t(1) << 16) / c), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float *xr = x + r * c;
      float *yr = y + r * c;
      for (int64_t j = 0; j < c; j++) yr[j] = (xr[j] - mu[j]) * scale[j] + beta[j];
      if (residual) {
        const float *rr = residual + r * c;
        for (int64_t j = 0; j < c; j++) yr[j] += rr[j];
      }
      if (relu)
        for (int64_t j = 0; j < c; j++) yr[j] = yr[j] > 0.f ? yr[j] : 0.f;
    }
  });
}

/// Evaluation mode: y = x·scale + shift per channel (scale = γ/√(running σ² + ε), shift =
/// β − running μ·scale, computed by the caller, PyTorch's formula), then the fused
/// epilogues as bnForward: `residual` added, `relu`. One pass, no reduction: the same
/// result at any thread count.
inline void bnInference(const float *x, const float *scale, const float *shift,
                        const float *residual, float *y, int64_t rows, int64_t c, bool relu) {
  parallelFor(rows, std::max<int64_t>(16, (int64_t(1) << 16) / c), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const float *xr = x + r * c;
      float *yr = y + r * c;
      for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * scale[j] + shift[j];
      if (residual) {
        const float *rr = residual + r * c;
        for (int64_t j = 0; j < c; j++) yr[j] += rr[j];
      }
      if (relu)
        for (int64_t j = 0; j < c; j++) yr[j] = yr[j] > 0.f ? yr[j] : 0.f;
    }
  });
}

/// dβ = Σdy, dγ = Σdy·x̂, dx = γ·inv·(dy − dβ/N − x̂·dγ/N) with x̂ = (x − μ)·inv. With the
/// fused ReLU (`Relu`, its output `reluY`), dy first passes ReLU's gradient: 0 where y ≤ 0;
/// that is also the gradient of a fused residual, written to `dresidual` when non-null.
/// A template so that each inner loop stays branch-free (vectorised).
template <bool Relu>
void bnBackwardImpl(const float *dy, const float *x, const float *mean, const float *var,
                    const float *gamma, const float *reluY, float *dx, float *dgamma, float *dbeta,
                    float *dresidual, int64_t rows, int64_t c, double eps) {
  std::vector<float> inv(c);
  for (int64_t j = 0; j < c; j++) inv[j] = float(1.0 / std::sqrt(double(var[j]) + eps));
  // One pass, two sums: a block holds [Σdy | Σdy·(x − μ)] side by side.
  std::vector<double> both;
  reduceRows(rows, 2 * c, both, [&](int64_t r, float *acc) {
    const float *dyr = dy + r * c, *xr = x + r * c, *yr = Relu ? reluY + r * c : nullptr;
    for (int64_t j = 0; j < c; j++) {
      const float dv = dyr[j];  // loaded unconditionally: the select vectorises
      const float d = Relu ? (yr[j] > 0.f ? dv : 0.f) : dv;
      acc[j] += d;
      acc[c + j] += d * (xr[j] - mean[j]);
    }
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
  parallelFor(rows, std::max<int64_t>(16, (int64_t(1) << 16) / c), [&](int64_t b0, int64_t e0) {
    for (int64_t r = b0; r < e0; r++) {
      const float *dyr = dy + r * c, *xr = x + r * c, *yr = Relu ? reluY + r * c : nullptr;
      float *dxr = dx + r * c;
      for (int64_t j = 0; j < c; j++) {
        const float dv = dyr[j];  // loaded unconditionally: the select vectorises
        const float d = Relu ? (yr[j] > 0.f ? dv : 0.f) : dv;
        dxr[j] = a[j] * d + k[j] * (xr[j] - mean[j]) + b[j];
      }
      if (dresidual) {
        float *drr = dresidual + r * c;
        for (int64_t j = 0; j < c; j++) {
          const float dv = dyr[j];
          drr[j] = Relu ? (yr[j] > 0.f ? dv : 0.f) : dv;
        }
      }
    }
  });
}

/// Batch-norm backward; `reluY` non-null: with the fused ReLU whose output it is;
/// `dresidual` non-null: also the gradient of the fused residual.
inline void bnBackward(const float *dy, const float *x, const float *mean, const float *var,
                       const float *gamma, const float *reluY, float *dx, float *dgamma,
                       float *dbeta, float *dresidual, int64_t rows, int64_t c, double eps) {
  if (reluY)
    bnBackwardImpl<true>(dy, x, mean, var, gamma, reluY, dx, dgamma, dbeta, dresidual, rows, c,
                         eps);
  else
    bnBackwardImpl<false>(dy, x, mean, var, gamma, nullptr, dx, dgamma, dbeta, dresidual, rows, c,
                          eps);
}

}  // namespace carp
