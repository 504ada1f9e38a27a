// Convolutions as im2col + SGEMM, and the max-pool gradient, on NHWC float32 tensors.
// See carp_native.cc for layouts and determinism; onednn.h says which convolutions take
// this path.
#pragma once

#include <cmath>
#include <cstring>

#include "gemm.h"
#include "threads.h"

namespace carp {

// Rows of an im2col block are chosen so a block holds at most this many floats (16 MiB).
constexpr int64_t BLOCK_FLOATS = int64_t(1) << 22;

// ---------------------------------------------------------------------------------------
// Convolution geometry and im2col / col2im.

struct Conv {
  int64_t n, h, w, c;  // input
  int64_t o;           // output channels
  int64_t fh, fw;      // filter
  int64_t sh, sw;      // strides
  int64_t dh, dw;      // dilations
  int64_t top, left;   // padding before
  int64_t ho, wo;      // output size
  int64_t k() const { return fh * fw * c; }
  int64_t rowsPerImage() const { return ho * wo; }
  bool pointwise() const {
    return fh == 1 && fw == 1 && sh == 1 && sw == 1 && top == 0 && left == 0 && ho == h && wo == w;
  }
};

/// Window rows [r0, r1) of the whole batch (row r = (img, oh, ow)) into col[(r − r0), k].
/// Where a filter row lies inside the image (and dilation is 1), its fw taps are one
/// contiguous run of fw·c floats in NHWC: one copy instead of fw (the ImageNet stem has
/// c = 1, where per-tap copies of 4 bytes dominated).
inline void im2col(const Conv &g, const float *x, float *col, int64_t r0, int64_t r1) {
  const int64_t K = g.k(), per = g.rowsPerImage(), run = g.fw * g.c;
  parallelFor(r1 - r0, std::max<int64_t>(16, (int64_t(1) << 16) / K), [&](int64_t b, int64_t e) {
    for (int64_t r = r0 + b; r < r0 + e; r++) {
      int64_t img = r / per, rem = r % per, oh = rem / g.wo, ow = rem % g.wo;
      float *dst = col + (r - r0) * K;
      const float *src = x + img * g.h * g.w * g.c;
      const int64_t iw0 = ow * g.sw - g.left;
      const bool inside = g.dw == 1 && iw0 >= 0 && iw0 + g.fw <= g.w;
      for (int64_t kh = 0; kh < g.fh; kh++, dst += run) {
        int64_t ih = oh * g.sh - g.top + kh * g.dh;
        if (ih < 0 || ih >= g.h) {
          std::memset(dst, 0, sizeof(float) * run);
        } else if (inside) {
          std::memcpy(dst, src + (ih * g.w + iw0) * g.c, sizeof(float) * run);
        } else {
          for (int64_t kw = 0; kw < g.fw; kw++) {
            int64_t iw = iw0 + kw * g.dw;
            float *d = dst + kw * g.c;
            if (iw < 0 || iw >= g.w)
              std::memset(d, 0, sizeof(float) * g.c);
            else
              std::memcpy(d, src + (ih * g.w + iw) * g.c, sizeof(float) * g.c);
          }
        }
      }
    }
  });
}

/// Adds col rows of images [i0, i1) back into dx (the transpose of im2col). Windows of
/// one image overlap, so threads split by image: their dx regions are disjoint. Inside
/// the image a filter row is one contiguous run, as in im2col.
inline void col2im(const Conv &g, const float *col, float *dx, int64_t i0, int64_t i1) {
  const int64_t K = g.k(), per = g.rowsPerImage(), imgSize = g.h * g.w * g.c, run = g.fw * g.c;
  parallelFor(i1 - i0, std::max<int64_t>(1, (int64_t(1) << 16) / (per * K)),
              [&](int64_t b, int64_t e) {
                for (int64_t img = i0 + b; img < i0 + e; img++) {
                  float *base = dx + img * imgSize;
                  std::memset(base, 0, sizeof(float) * imgSize);
                  for (int64_t rem = 0; rem < per; rem++) {
                    int64_t oh = rem / g.wo, ow = rem % g.wo;
                    const float *src = col + ((img - i0) * per + rem) * K;
                    const int64_t iw0 = ow * g.sw - g.left;
                    const bool inside = g.dw == 1 && iw0 >= 0 && iw0 + g.fw <= g.w;
                    for (int64_t kh = 0; kh < g.fh; kh++, src += run) {
                      int64_t ih = oh * g.sh - g.top + kh * g.dh;
                      if (ih < 0 || ih >= g.h) continue;
                      if (inside) {
                        float *d = base + (ih * g.w + iw0) * g.c;
                        for (int64_t i = 0; i < run; i++) d[i] += src[i];
                        continue;
                      }
                      for (int64_t kw = 0; kw < g.fw; kw++) {
                        int64_t iw = iw0 + kw * g.dw;
                        if (iw < 0 || iw >= g.w) continue;
                        float *d = base + (ih * g.w + iw) * g.c;
                        const float *s = src + kw * g.c;
                        for (int64_t ci = 0; ci < g.c; ci++) d[ci] += s[ci];
                      }
                    }
                  }
                }
              });
}

/// Calls fn(col, r0, r1) for consecutive blocks of rows [r0, r1) of im2col(x), each block
/// at most BLOCK_FLOATS floats (native memory, reused).
template <typename F>
void forIm2colBlocks(const Conv &g, const float *x, F fn) {
  const int64_t K = g.k(), M = g.n * g.rowsPerImage();
  const int64_t rows = std::max<int64_t>(64, BLOCK_FLOATS / K);
  std::vector<float> col(std::min(rows, M) * K);
  for (int64_t r0 = 0; r0 < M; r0 += rows) {
    int64_t r1 = std::min(M, r0 + rows);
    im2col(g, x, col.data(), r0, r1);
    fn(col.data(), r0, r1);
  }
}

/// y[M, O] = im2col(x) · w[K, O].
inline void convForward(const Conv &g, const float *x, const float *w, float *y) {
  const int64_t K = g.k(), M = g.n * g.rowsPerImage();
  if (g.pointwise()) {
    sgemm(false, false, M, g.o, K, 1.f, x, K, w, g.o, 0.f, y,
                g.o);
    return;
  }
  forIm2colBlocks(g, x, [&](const float *col, int64_t r0, int64_t r1) {
    sgemm(false, false, r1 - r0, g.o, K, 1.f, col, K, w, g.o,
                0.f, y + r0 * g.o, g.o);
  });
}

/// dx = col2im(dy[M, O] · wᵀ), in blocks of whole images.
inline void convBackpropInput(const Conv &g, const float *dy, const float *w, float *dx) {
  const int64_t K = g.k(), per = g.rowsPerImage();
  if (g.pointwise()) {
    sgemm(false, true, g.n * per, K, g.o, 1.f, dy, g.o, w, g.o,
                0.f, dx, K);
    return;
  }
  int64_t imgs = std::max<int64_t>(1, BLOCK_FLOATS / (per * K));
  imgs = std::min(g.n, std::max<int64_t>(imgs, std::min<int64_t>(g_threads, g.n)));
  std::vector<float> col(imgs * per * K);
  for (int64_t i0 = 0; i0 < g.n; i0 += imgs) {
    int64_t i1 = std::min(g.n, i0 + imgs);
    sgemm(false, true, (i1 - i0) * per, K, g.o, 1.f,
                dy + i0 * per * g.o, g.o, w, g.o, 0.f, col.data(), K);
    col2im(g, col.data(), dx, i0, i1);
  }
}

/// dw[K, O] = Σ_blocks im2col(x)ᵀ · dy.
inline void convBackpropFilter(const Conv &g, const float *x, const float *dy, float *dw) {
  const int64_t K = g.k(), M = g.n * g.rowsPerImage();
  if (g.pointwise()) {
    sgemm(true, false, K, g.o, M, 1.f, x, K, dy, g.o, 0.f, dw,
                g.o);
    return;
  }
  forIm2colBlocks(g, x, [&](const float *col, int64_t r0, int64_t r1) {
    sgemm(true, false, K, g.o, r1 - r0, 1.f, col, K,
                dy + r0 * g.o, g.o, r0 == 0 ? 0.f : 1.f, dw, g.o);
  });
}

/// Max-pool gradient with the cpu backend's rule (src/backend/kernels/maxPoolGrad.ts): each
/// window sends its dy to the first in-bounds position, in row-major window order, whose
/// value is strictly larger than all before it, starting from −∞ (NaN and padding are
/// never chosen). Threads split by image (disjoint dx regions).
inline void maxPoolGrad(const Conv &g, const float *dy, const float *x, float *dx) {
  const int64_t imgSize = g.h * g.w * g.c;
  parallelFor(g.n, std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, imgSize)),
              [&](int64_t b, int64_t e) {
                std::vector<float> best(g.c);
                std::vector<int64_t> where(g.c);
                for (int64_t img = b; img < e; img++) {
                  const float *xi = x + img * imgSize;
                  float *dxi = dx + img * imgSize;
                  std::memset(dxi, 0, sizeof(float) * imgSize);
                  for (int64_t oh = 0; oh < g.ho; oh++) {
                    int64_t r0 = std::max<int64_t>(0, oh * g.sh - g.top),
                            r1 = std::min(g.h, oh * g.sh - g.top + g.fh);
                    for (int64_t ow = 0; ow < g.wo; ow++) {
                      int64_t c0 = std::max<int64_t>(0, ow * g.sw - g.left),
                              c1 = std::min(g.w, ow * g.sw - g.left + g.fw);
                      std::fill(best.begin(), best.end(), -INFINITY);
                      std::fill(where.begin(), where.end(), -1);
                      for (int64_t r = r0; r < r1; r++)
                        for (int64_t col = c0; col < c1; col++) {
                          const int64_t base = (r * g.w + col) * g.c;
                          for (int64_t d = 0; d < g.c; d++)
                            if (xi[base + d] > best[d]) {
                              best[d] = xi[base + d];
                              where[d] = base + d;
                            }
                        }
                      const float *dyr = dy + ((img * g.ho + oh) * g.wo + ow) * g.c;
                      for (int64_t d = 0; d < g.c; d++)
                        if (where[d] >= 0) dxi[where[d]] += dyr[d];
                    }
                  }
                }
              });
}

}  // namespace carp
