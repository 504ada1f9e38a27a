// GELU, the exact (erf) form PyTorch uses by default (method §2.2), and its gradient,
// over n floats, multi-threaded and 16 lanes at a time. The tfjs composite was five
// single-threaded kernels forward and about ten backward, with wasm's scalar erf and exp:
// ≈ 20 ms of a width-8 step for the head's two GELUs.
#pragma once

#include <cstdint>
#include <cstring>

#include "threads.h"
#include "vecmath.h"

namespace carp {

/// Runs f(v16f x, v16f dy) → v16f over [0, n) in parallel, the tail through a zero-padded
/// register. `dy` may be null (forward).
template <typename F>
void mapGelu(const float *x, const float *dy, float *out, int64_t n, F f) {
  const int64_t chunks = n / 16;
  parallelFor(chunks, 1024, [=](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++)
      store16(out + c * 16, f(load16(x + c * 16), dy ? load16(dy + c * 16) : v16f{}));
  });
  const int64_t rest = n - chunks * 16;
  if (rest > 0) {
    float xs[16] = {}, ds[16] = {}, os[16];
    std::memcpy(xs, x + chunks * 16, sizeof(float) * rest);
    if (dy) std::memcpy(ds, dy + chunks * 16, sizeof(float) * rest);
    store16(os, f(load16(xs), load16(ds)));
    std::memcpy(out + chunks * 16, os, sizeof(float) * rest);
  }
}

/// y = x·Φ(x) = ½·x·(1 + erf(x/√2)).
inline void geluForward(const float *x, float *y, int64_t n) {
  mapGelu(x, nullptr, y, n, [](v16f v, v16f) {
    return 0.5f * v * (1.f + erf16(v * 0.70710678118654752f));
  });
}

/// dx = dy·(Φ(x) + x·φ(x)), φ(x) = e^{−x²/2}/√(2π).
inline void geluBackward(const float *dy, const float *x, float *dx, int64_t n) {
  mapGelu(x, dy, dx, n, [](v16f v, v16f d) {
    const v16f cdf = 0.5f * (1.f + erf16(v * 0.70710678118654752f));
    const v16f pdf = exp16(-0.5f * v * v) * 0.39894228040143268f;
    return d * (cdf + v * pdf);
  });
}

}  // namespace carp
