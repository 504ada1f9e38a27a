// Vector math for the kernels written with GCC/Clang vector types (16 floats: one
// AVX-512 register; narrower targets split it): the compiler does not vectorise std::exp
// or std::erf without -ffast-math, which the rest of the addon must not be built with.
#pragma once

#include <cstdint>
#include <cstring>

namespace carp {

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

inline v16f load16(const float *p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float *p, v16f v) { std::memcpy(p, &v, sizeof v); }

/// e^x for 16 floats: Cephes' expf polynomial after reduction by ln 2 (≤ 1.4 ulp on
/// [−87, 88], inputs clamped there). Written with vector types because the compiler does
/// not vectorise std::exp without -ffast-math.
inline v16f exp16(v16f x) {
  const v16f lo = v16f{} - 87.f, hi = v16f{} + 88.f;
  x = x < lo ? lo : x;
  x = x > hi ? hi : x;
  const float magic = 12582912.f;  // 1.5·2^23: adding it rounds to an integer
  const v16f t = x * 1.44269504088896341f + magic;
  const v16f k = t - magic;
  const v16f r = x - k * 0.693359375f + k * 2.12194440e-4f;
  v16f p = v16f{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const v16f e = p * r * r + r + 1.f;
  const v16i ki = (v16i)t - (v16i)(v16f{} + magic);
  return e * (v16f)((ki + 127) << 23);
}

inline float sum16(v16f v) {
  float s = 0.f;
  for (int i = 0; i < 16; i++) s += v[i];
  return s;
}

/// Σ a[i]·b[i] over n values, 16 lanes at a time then the tail (a fixed order).
inline float dot(const float *a, const float *b, int64_t n) {
  v16f acc = v16f{};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc += load16(a + i) * load16(b + i);
  float s = sum16(acc);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/// erf(x) for 16 floats: Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5·10⁻⁷, the
/// formula of PyTorch's vectorised CPU erf).
inline v16f erf16(v16f x) {
  const v16f ax = x < 0.f ? -x : x;
  const v16f t = 1.f / (1.f + 0.3275911f * ax);
  v16f y = v16f{} + 1.061405429f;
  y = y * t - 1.453152027f;
  y = y * t + 1.421413741f;
  y = y * t - 0.284496736f;
  y = y * t + 0.254829592f;
  const v16f r = 1.f - y * t * exp16(-ax * ax);
  return x < 0.f ? -r : r;
}

}  // namespace carp
