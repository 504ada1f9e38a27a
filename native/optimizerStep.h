// The optimiser's element-wise updates as one pass per parameter (method §5.2, §2.4):
// LARS (weight decay, trust ratio, momentum, step) and the teacher's EMA. In tfjs ops they
// were ≈ 13 (LARS) and 3 (EMA) single-threaded kernels per parameter tensor, ≈ 750 kernel
// calls a step for ResNet-18 + head, each with tfjs's per-call bookkeeping.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "batchNorm.h"

namespace carp {

/// LARS on one parameter of n values (src/optim/lars.ts): u = g + decay·p; with `trust`,
/// u ·= η‖p‖/‖u‖ when both norms are > 0; v' = μ·v + u; p' = p − lr·v'. The norms are
/// reduced in fixed blocks (reduceLanes): the same result at any thread count.
inline void larsStep(const float *p, const float *g, const float *v, float *pOut, float *vOut,
                     int64_t n, float lr, float decay, float mu, float eta, bool trust) {
  const Lanes flat(1);
  float ratio = 1.f;
  if (trust) {
    std::vector<double> sq;
    reduceLanes<2>(flat, n, sq, [p, g, decay](int64_t i, int64_t, float *t) {
      const float u = g[i] + p[i] * decay;
      t[0] = p[i] * p[i];
      t[1] = u * u;
    });
    const float pNorm = float(std::sqrt(sq[0])), uNorm = float(std::sqrt(sq[1]));
    if (pNorm > 0.f && uNorm > 0.f) ratio = pNorm * eta / uNorm;
  }
  mapLanes(flat, n, [=](int64_t i, int64_t) {
    const float u = (g[i] + p[i] * decay) * ratio;
    const float nv = v[i] * mu + u;
    vOut[i] = nv;
    pOut[i] = p[i] - nv * lr;
  });
}

/// The teacher's EMA (§2.4): t' = m·t + k·s over n values, k = 1 − m rounded once from
/// the caller's double, as tfjs rounds its scalar (the compiler may fuse the multiply-add:
/// within an ulp of the tfjs ops, the same from run to run).
inline void emaStep(const float *t, const float *s, float *out, int64_t n, float m, float k) {
  mapLanes(Lanes(1), n, [=](int64_t i, int64_t) { out[i] = t[i] * m + s[i] * k; });
}

}  // namespace carp
