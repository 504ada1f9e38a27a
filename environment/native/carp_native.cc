// carp-kit native kernels: the heavy float32 kernels of a CARP training step (convolution
// forward, both convolution gradients, batched matMul, training-mode batch norm forward and
// backward, the max-pool gradient), the products on OpenBLAS's multi-threaded SGEMM,
// computed directly on the tensors in the tfjs wasm backend's heap.
//
// Why (docs/performance.md): tfjs-wasm runs one thread with 128-bit SIMD and no FMA (≈ 30
// GFLOP/s for convolutions on this machine), where OpenBLAS reaches ≈ 90 GFLOP/s per core
// with AVX-512 and uses every core. The wasm backend keeps owning the tensors; these
// functions read and write its heap in place (no copies), so every other kernel and all
// of tfjs's bookkeeping stay as they are. src/backend/native/ registers them.
//
// Layouts are tfjs's: NHWC activations, [fh, fw, inC, outC] filters, row-major matrices.
// A convolution is im2col + GEMM: the window rows (n, oh, ow) × columns (kh, kw, c) times
// the filter read as a [fh·fw·inC, outC] matrix. The im2col matrix is built in blocks of
// rows (≤ BLOCK_FLOATS floats) in native memory, not the wasm heap.
//
// Determinism: for a fixed thread count every result is bit-identical from run to run
// (OpenBLAS splits an SGEMM by output blocks; our reductions use a fixed block split that
// does not depend on the thread count, combined in a fixed order). Exact resume relies on it.
//
// Only the C API of Node (node_api.h) is used, so no npm package is needed to build this.
// With -DCARP_KERNELS_ONLY the N-API glue is left out (a C++ harness can time the kernels).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include <cblas.h>
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
}

namespace {

// Threads for GEMM (OpenBLAS) and for our own loops. Set from JS (setThreads).
int g_threads = 1;
// Rows of an im2col block are chosen so a block holds at most this many floats (16 MiB).
constexpr int64_t BLOCK_FLOATS = int64_t(1) << 22;

/// Runs fn(begin, end) over [0, n) split into `g_threads` contiguous parts (the calling
/// thread takes the first). Each part gets at least `minPerThread` items, so small ranges
/// run inline: a thread start costs ≈ 20 µs, the time to copy ≈ 100 KiB.
void parallelFor(int64_t n, int64_t minPerThread, const std::function<void(int64_t, int64_t)> &fn) {
  int64_t parts =
      std::min<int64_t>(g_threads, std::max<int64_t>(1, n / std::max<int64_t>(1, minPerThread)));
  if (parts <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(parts - 1);
  int64_t step = (n + parts - 1) / parts;
  for (int64_t p = 1; p < parts; p++) {
    int64_t b = p * step, e = std::min(n, b + step);
    if (b < e) pool.emplace_back(fn, b, e);
  }
  fn(0, std::min(n, step));
  for (auto &t : pool) t.join();
}

/// OpenBLAS threads for the duration of one kernel, restored after: faiss runs its own
/// OpenMP threads and wants OpenBLAS single-threaded (ENVIRONMENT.md §1).
struct BlasThreads {
  int saved;
  BlasThreads() : saved(openblas_get_num_threads()) {
    if (saved != g_threads) openblas_set_num_threads(g_threads);
  }
  ~BlasThreads() {
    if (openblas_get_num_threads() != saved) openblas_set_num_threads(saved);
  }
};

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
void im2col(const Conv &g, const float *x, float *col, int64_t r0, int64_t r1) {
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
void col2im(const Conv &g, const float *col, float *dx, int64_t i0, int64_t i1) {
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
void convForward(const Conv &g, const float *x, const float *w, float *y) {
  const int64_t K = g.k(), M = g.n * g.rowsPerImage();
  if (g.pointwise()) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, g.o, K, 1.f, x, K, w, g.o, 0.f, y,
                g.o);
    return;
  }
  forIm2colBlocks(g, x, [&](const float *col, int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, g.o, K, 1.f, col, K, w, g.o,
                0.f, y + r0 * g.o, g.o);
  });
}

/// dx = col2im(dy[M, O] · wᵀ), in blocks of whole images.
void convBackpropInput(const Conv &g, const float *dy, const float *w, float *dx) {
  const int64_t K = g.k(), per = g.rowsPerImage();
  if (g.pointwise()) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.n * per, K, g.o, 1.f, dy, g.o, w, g.o,
                0.f, dx, K);
    return;
  }
  int64_t imgs = std::max<int64_t>(1, BLOCK_FLOATS / (per * K));
  imgs = std::min(g.n, std::max<int64_t>(imgs, std::min<int64_t>(g_threads, g.n)));
  std::vector<float> col(imgs * per * K);
  for (int64_t i0 = 0; i0 < g.n; i0 += imgs) {
    int64_t i1 = std::min(g.n, i0 + imgs);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (i1 - i0) * per, K, g.o, 1.f,
                dy + i0 * per * g.o, g.o, w, g.o, 0.f, col.data(), K);
    col2im(g, col.data(), dx, i0, i1);
  }
}

/// dw[K, O] = Σ_blocks im2col(x)ᵀ · dy.
void convBackpropFilter(const Conv &g, const float *x, const float *dy, float *dw) {
  const int64_t K = g.k(), M = g.n * g.rowsPerImage();
  if (g.pointwise()) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.o, M, 1.f, x, K, dy, g.o, 0.f, dw,
                g.o);
    return;
  }
  forIm2colBlocks(g, x, [&](const float *col, int64_t r0, int64_t r1) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.o, r1 - r0, 1.f, col, K,
                dy + r0 * g.o, g.o, r0 == 0 ? 0.f : 1.f, dw, g.o);
  });
}

/// Max-pool gradient with the cpu backend's rule (src/backend/kernels/maxPoolGrad.ts): each
/// window sends its dy to the first in-bounds position, in row-major window order, whose
/// value is strictly larger than all before it, starting from −∞ (NaN and padding are
/// never chosen). Threads split by image (disjoint dx regions).
void maxPoolGrad(const Conv &g, const float *dy, const float *x, float *dx) {
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
void bnForward(const float *x, const float *gamma, const float *beta, float *y, float *mean,
               float *var, int64_t rows, int64_t c, double eps) {
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
    }
  });
}

/// dβ = Σdy, dγ = Σdy·x̂, dx = γ·inv·(dy − dβ/N − x̂·dγ/N) with x̂ = (x − μ)·inv.
void bnBackward(const float *dy, const float *x, const float *mean, const float *var,
                const float *gamma, float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t c,
                double eps) {
  std::vector<float> inv(c);
  for (int64_t j = 0; j < c; j++) inv[j] = float(1.0 / std::sqrt(double(var[j]) + eps));
  // One pass, two sums: a block holds [Σdy | Σdy·(x − μ)] side by side.
  std::vector<double> both;
  reduceRows(rows, 2 * c, both, [&](int64_t r, float *acc) {
    const float *dyr = dy + r * c, *xr = x + r * c;
    for (int64_t j = 0; j < c; j++) {
      acc[j] += dyr[j];
      acc[c + j] += dyr[j] * (xr[j] - mean[j]);
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
      const float *dyr = dy + r * c, *xr = x + r * c;
      float *dxr = dx + r * c;
      for (int64_t j = 0; j < c; j++) dxr[j] = a[j] * dyr[j] + k[j] * (xr[j] - mean[j]) + b[j];
    }
  });
}

}  // namespace

#ifndef CARP_KERNELS_ONLY
#include <node_api.h>

namespace {

// ---------------------------------------------------------------------------------------
// N-API glue: every kernel takes the heap (a typed array over the wasm memory), byte
// offsets of its tensors in it, and its sizes as numbers.

napi_value throwError(napi_env env, const std::string &msg) {
  napi_throw_error(env, nullptr, ("carp-native: " + msg).c_str());
  return nullptr;
}

struct Args {
  napi_env env;
  std::vector<napi_value> v;
  uint8_t *heap = nullptr;
  size_t heapBytes = 0;
  bool ok = true;
  std::string error;

  Args(napi_env e, napi_callback_info info, size_t expected) : env(e), v(expected) {
    size_t argc = expected;
    napi_get_cb_info(env, info, &argc, v.data(), nullptr, nullptr);
    if (argc < expected) fail("expected " + std::to_string(expected) + " arguments");
  }
  void fail(const std::string &m) {
    if (ok) error = m;
    ok = false;
  }
  void readHeap(size_t i) {
    bool is = false;
    napi_is_typedarray(env, v[i], &is);
    if (!is)
      return fail("argument " + std::to_string(i) + " must be the wasm heap (a typed array)");
    napi_typedarray_type type;
    size_t length, offset;
    void *data;
    napi_value ab;
    napi_get_typedarray_info(env, v[i], &type, &length, &data, &ab, &offset);
    if (type != napi_uint8_array) return fail("the heap must be a Uint8Array");
    heap = static_cast<uint8_t *>(data);
    heapBytes = length;
  }
  double num(size_t i) {
    double d = 0;
    if (napi_get_value_double(env, v[i], &d) != napi_ok)
      fail("argument " + std::to_string(i) + " must be a number");
    return d;
  }
  int64_t integer(size_t i) { return int64_t(num(i)); }
  /// A float32 view of `count` floats at byte offset argument i, bounds-checked.
  float *floats(size_t i, int64_t count) {
    int64_t off = integer(i);
    if (!ok) return nullptr;
    if (off < 0 || off % 4 != 0 || count < 0 || uint64_t(off) + uint64_t(count) * 4 > heapBytes) {
      fail("tensor at argument " + std::to_string(i) + " (offset " + std::to_string(off) + ", " +
           std::to_string(count) + " floats) lies outside the heap");
      return nullptr;
    }
    return reinterpret_cast<float *>(heap + off);
  }
};

/// Conv geometry from 15 numbers starting at argument `at`.
Conv readConv(Args &a, size_t at) {
  Conv g;
  int64_t *f[] = {&g.n,  &g.h,  &g.w,  &g.c,   &g.o,    &g.fh, &g.fw, &g.sh,
                  &g.sw, &g.dh, &g.dw, &g.top, &g.left, &g.ho, &g.wo};
  for (size_t i = 0; i < 15; i++) *f[i] = a.integer(at + i);
  for (size_t i = 0; i < 15; i++)
    if (*f[i] < 0 || (i != 11 && i != 12 && *f[i] == 0))
      a.fail("conv geometry has a bad value at position " + std::to_string(i));
  return g;
}

/// The three tensors of a conv-style kernel, each one of these shapes.
enum class Part { Input, Filter, Output };

int64_t floatsOf(const Conv &g, Part p) {
  switch (p) {
    case Part::Input:
      return g.n * g.h * g.w * g.c;
    case Part::Filter:
      return g.k() * g.o;
    case Part::Output:
      return g.n * g.ho * g.wo * g.o;
  }
  return 0;
}

using ConvFn = void (*)(const Conv &, const float *, const float *, float *);

/// Glue shared by the conv-style kernels: name(heap, aOff, bOff, outOff, ...15 geometry
/// numbers) → fn(geometry, a, b, out), each tensor bounds-checked for its part's size.
/// `pool`: a pooling geometry, whose output channels must equal its input channels.
napi_value convKernel(napi_env env, napi_callback_info info, Part pa, Part pb, Part pout, ConvFn fn,
                      bool pool = false) {
  Args a(env, info, 19);
  a.readHeap(0);
  Conv g = readConv(a, 4);
  if (a.ok && pool && g.o != g.c) a.fail("a pool's output channels must equal its input channels");
  if (!a.ok) return throwError(env, a.error);
  float *x = a.floats(1, floatsOf(g, pa)), *y = a.floats(2, floatsOf(g, pb)),
        *out = a.floats(3, floatsOf(g, pout));
  if (!a.ok) return throwError(env, a.error);
  BlasThreads t;
  fn(g, x, y, out);
  return nullptr;
}

// conv2d(heap, xOff, wOff, yOff, ...geometry)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Input, Part::Filter, Part::Output, convForward);
}

// conv2dBackpropInput(heap, dyOff, wOff, dxOff, ...geometry)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Output, Part::Filter, Part::Input, convBackpropInput);
}

// conv2dBackpropFilter(heap, xOff, dyOff, dwOff, ...geometry)
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Input, Part::Output, Part::Filter, convBackpropFilter);
}

// maxPoolGrad(heap, dyOff, xOff, dxOff, ...geometry): a pool's geometry, output channels = c.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Output, Part::Input, Part::Input, maxPoolGrad, true);
}

// matMul(heap, aOff, bOff, cOff, batchA, batchB, m, n, k, transposeA, transposeB):
// c[i] = op(a[i or 0]) · op(b[i or 0]) for i < max(batchA, batchB); a batch of 1 broadcasts.
napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a(env, info, 11);
  a.readHeap(0);
  int64_t batchA = a.integer(4), batchB = a.integer(5), m = a.integer(6), n = a.integer(7),
          k = a.integer(8);
  bool ta = a.num(9) != 0, tb = a.num(10) != 0;
  if (a.ok && (batchA < 1 || batchB < 1 || (batchA != batchB && batchA != 1 && batchB != 1) ||
               m < 1 || n < 1 || k < 1))
    a.fail("matMul: bad sizes");
  int64_t batch = std::max(batchA, batchB);
  float *pa = a.floats(1, batchA * m * k), *pb = a.floats(2, batchB * k * n),
        *pc = a.floats(3, batch * m * n);
  if (!a.ok) return throwError(env, a.error);
  BlasThreads t;
  for (int64_t i = 0; i < batch; i++) {
    const float *ai = pa + (batchA == 1 ? 0 : i) * m * k, *bi = pb + (batchB == 1 ? 0 : i) * k * n;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, 1.f, ai, ta ? m : k, bi, tb ? k : n, 0.f, pc + i * m * n, n);
  }
  return nullptr;
}

// batchNormForward(heap, xOff, gammaOff, betaOff, yOff, meanOff, varOff, rows, channels, eps)
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  Args a(env, info, 10);
  a.readHeap(0);
  int64_t rows = a.integer(7), c = a.integer(8);
  double eps = a.num(9);
  if (a.ok && (rows < 1 || c < 1)) a.fail("batchNorm: bad sizes");
  float *x = a.floats(1, rows * c), *g = a.floats(2, c), *b = a.floats(3, c),
        *y = a.floats(4, rows * c), *mean = a.floats(5, c), *var = a.floats(6, c);
  if (!a.ok) return throwError(env, a.error);
  bnForward(x, g, b, y, mean, var, rows, c, eps);
  return nullptr;
}

// batchNormBackward(heap, dyOff, xOff, meanOff, varOff, gammaOff, dxOff, dgammaOff, dbetaOff,
//                   rows, channels, eps)
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, 12);
  a.readHeap(0);
  int64_t rows = a.integer(9), c = a.integer(10);
  double eps = a.num(11);
  if (a.ok && (rows < 1 || c < 1)) a.fail("batchNorm: bad sizes");
  float *dy = a.floats(1, rows * c), *x = a.floats(2, rows * c), *mean = a.floats(3, c),
        *var = a.floats(4, c), *g = a.floats(5, c), *dx = a.floats(6, rows * c),
        *dg = a.floats(7, c), *db = a.floats(8, c);
  if (!a.ok) return throwError(env, a.error);
  bnBackward(dy, x, mean, var, g, dx, dg, db, rows, c, eps);
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info, 1);
  int64_t n = a.integer(0);
  if (!a.ok || n < 1 || n > 1024)
    return throwError(env, "setThreads: expected an integer in [1, 1024]");
  g_threads = int(n);
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, g_threads, &out);
  return out;
}

napi_value BlasInfo(napi_env env, napi_callback_info) {
  napi_value out, core, config;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &core);
  napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &config);
  napi_set_named_property(env, out, "core", core);
  napi_set_named_property(env, out, "config", config);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"conv2d", Conv2D},
             {"conv2dBackpropInput", Conv2DBackpropInput},
             {"conv2dBackpropFilter", Conv2DBackpropFilter},
             {"matMul", MatMul},
             {"maxPoolGrad", MaxPoolGrad},
             {"batchNormForward", BatchNormForward},
             {"batchNormBackward", BatchNormBackward},
             {"setThreads", SetThreads},
             {"getThreads", GetThreads},
             {"blasInfo", BlasInfo}};
  for (auto &f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  unsigned hw = std::thread::hardware_concurrency();
  g_threads = hw > 0 ? int(hw) : 1;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
#endif  // CARP_KERNELS_ONLY
