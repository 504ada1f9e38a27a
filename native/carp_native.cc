// carp-kit native kernels: the heavy float32 kernels of a CARP training step (convolution
// forward, both convolution gradients, batched matMul, training-mode batch norm forward and
// backward, the max-pool gradient, the random partition's permutation), computed directly on the tensors in the tfjs wasm
// backend's heap.
//
// Why (docs/performance.md): tfjs-wasm runs one thread with 128-bit SIMD and no FMA (≈ 30
// GFLOP/s for convolutions on this machine). The convolutions run on oneDNN's direct NHWC
// kernels (onednn.h; the library PyTorch's CPU path uses, 150–300 GFLOP/s on 2 AVX-512
// cores even at 16 channels, where im2col + SGEMM managed ≈ 20–60), the products on its
// SGEMM (gemm.h). The wasm backend keeps owning the tensors; these functions read and write
// its heap in place (no copies), so every other kernel and all of tfjs's bookkeeping stay
// as they are. src/backend/native/ registers them.
//
// Layouts are tfjs's: NHWC activations, [fh, fw, inC, outC] filters, row-major matrices.
// Where oneDNN does not take a convolution (onednn.h `takes`), it is im2col + GEMM
// (conv.h).
//
// Threads: one OpenMP pool (oneDNN's, libgomp) for oneDNN and our loops, g_threads wide.
//
// Determinism: for a fixed thread count every result is bit-identical from run to run
// (oneDNN's CPU convolutions and GEMM split work by output blocks and reduce partial weight
// gradients in a fixed order, no atomics; our reductions use a fixed block split that does
// not depend on the thread count, combined in a fixed order). Exact resume relies on it;
// test/backend/nativeKernels.test.ts checks it.
//
// Only the C API of Node (node_api.h) is used, so no npm package is needed to build this.
//
// The kernels live in headers without Node dependencies (threads.h, gemm.h, conv.h,
// onednn.h, batchNorm.h), so a C++ harness can include and time them; this file is the
// N-API glue.
#include <node_api.h>

#include <string>
#include <thread>

#include "batchNorm.h"
#include "carpLoss.h"
#include "conv.h"
#include "gelu.h"
#include "onednn.h"
#include "optimizerStep.h"
#include "threads.h"

namespace {

using namespace carp;

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
  try {
    fn(g, x, y, out);
  } catch (const std::exception &e) {
    return throwError(env, std::string("oneDNN: ") + e.what());
  }
  return nullptr;
}

/// oneDNN where it takes the geometry (onednn::takes), else im2col + SGEMM.
template <onednn::Kind K>
void convOn(const Conv &g, const float *a, const float *b, float *out) {
  const bool dnnl = onednn::takes(K, g);
  switch (K) {
    case onednn::Kind::Forward:
      return dnnl ? onednn::forward(g, a, b, out) : convForward(g, a, b, out);
    case onednn::Kind::BackwardData:
      return dnnl ? onednn::backwardData(g, a, b, out) : convBackpropInput(g, a, b, out);
    case onednn::Kind::BackwardWeights:
      return dnnl ? onednn::backwardWeights(g, a, b, out) : convBackpropFilter(g, a, b, out);
  }
}

// conv2d(heap, xOff, wOff, yOff, ...geometry)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Input, Part::Filter, Part::Output,
                    convOn<onednn::Kind::Forward>);
}

// convBnInference(heap, xOff, wOff, scaleOff, shiftOff, residualOff, yOff, ...15 geometry,
// relu, hasResidual): evaluation-mode conv → batch norm (→ + residual) (→ ReLU) folded into
// one oneDNN primitive (onednn::forwardFolded); residualOff is read only with hasResidual.
// Returns false (nothing written) where oneDNN's padding rule does not fit the geometry:
// the caller runs the unfused ops.
napi_value ConvBnInference(napi_env env, napi_callback_info info) {
  Args a(env, info, 24);
  a.readHeap(0);
  Conv g = readConv(a, 7);
  bool relu = a.num(22) != 0, hasResidual = a.num(23) != 0;
  if (!a.ok) return throwError(env, a.error);
  float *x = a.floats(1, floatsOf(g, Part::Input)), *w = a.floats(2, floatsOf(g, Part::Filter)),
        *scale = a.floats(3, g.o), *shift = a.floats(4, g.o),
        *res = hasResidual ? a.floats(5, floatsOf(g, Part::Output)) : nullptr,
        *y = a.floats(6, floatsOf(g, Part::Output));
  if (!a.ok) return throwError(env, a.error);
  napi_value out;
  if (!onednn::fits(g)) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  try {
    onednn::forwardFolded(g, x, w, scale, shift, res, y, relu);
  } catch (const std::exception &e) {
    return throwError(env, std::string("oneDNN: ") + e.what());
  }
  napi_get_boolean(env, true, &out);
  return out;
}

// conv2dBackpropInput(heap, dyOff, wOff, dxOff, ...geometry)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Output, Part::Filter, Part::Input,
                    convOn<onednn::Kind::BackwardData>);
}

// conv2dBackpropFilter(heap, xOff, dyOff, dwOff, ...geometry)
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  return convKernel(env, info, Part::Input, Part::Output, Part::Filter,
                    convOn<onednn::Kind::BackwardWeights>);
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
  try {
    for (int64_t i = 0; i < batch; i++) {
      const float *ai = pa + (batchA == 1 ? 0 : i) * m * k,
                  *bi = pb + (batchB == 1 ? 0 : i) * k * n;
      sgemm(ta, tb, m, n, k, 1.f, ai, ta ? m : k, bi, tb ? k : n, 0.f, pc + i * m * n, n);
    }
  } catch (const std::exception &e) {
    return throwError(env, std::string("oneDNN: ") + e.what());
  }
  return nullptr;
}

// batchNormForward(heap, xOff, gammaOff, betaOff, residualOff, yOff, meanOff, varOff, rows,
//                  channels, eps, relu, hasResidual): residualOff is read only with hasResidual.
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  Args a(env, info, 13);
  a.readHeap(0);
  int64_t rows = a.integer(8), c = a.integer(9);
  double eps = a.num(10);
  bool relu = a.num(11) != 0, hasResidual = a.num(12) != 0;
  if (a.ok && (rows < 1 || c < 1)) a.fail("batchNorm: bad sizes");
  float *x = a.floats(1, rows * c), *g = a.floats(2, c), *b = a.floats(3, c),
        *res = hasResidual ? a.floats(4, rows * c) : nullptr, *y = a.floats(5, rows * c),
        *mean = a.floats(6, c), *var = a.floats(7, c);
  if (!a.ok) return throwError(env, a.error);
  bnForward(x, g, b, res, y, mean, var, rows, c, eps, relu);
  return nullptr;
}

// batchNormInference(heap, xOff, scaleOff, shiftOff, residualOff, yOff, rows, channels, relu,
//                    hasResidual): evaluation mode, residualOff read only with hasResidual.
napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  Args a(env, info, 10);
  a.readHeap(0);
  int64_t rows = a.integer(6), c = a.integer(7);
  bool relu = a.num(8) != 0, hasResidual = a.num(9) != 0;
  if (a.ok && (rows < 1 || c < 1)) a.fail("batchNormInference: bad sizes");
  float *x = a.floats(1, rows * c), *scale = a.floats(2, c), *shift = a.floats(3, c),
        *res = hasResidual ? a.floats(4, rows * c) : nullptr, *y = a.floats(5, rows * c);
  if (!a.ok) return throwError(env, a.error);
  OmpThreads t;
  bnInference(x, scale, shift, res, y, rows, c, relu);
  return nullptr;
}

// batchNormBackward(heap, dyOff, xOff, meanOff, varOff, gammaOff, yOff, dxOff, dgammaOff,
//                   dbetaOff, dresidualOff, rows, channels, eps, relu, hasResidual): yOff (the
// fused ReLU's output) is read only with relu, dresidualOff written only with hasResidual.
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  Args a(env, info, 16);
  a.readHeap(0);
  int64_t rows = a.integer(11), c = a.integer(12);
  double eps = a.num(13);
  bool relu = a.num(14) != 0, hasResidual = a.num(15) != 0;
  if (a.ok && (rows < 1 || c < 1)) a.fail("batchNorm: bad sizes");
  float *dy = a.floats(1, rows * c), *x = a.floats(2, rows * c), *mean = a.floats(3, c),
        *var = a.floats(4, c), *g = a.floats(5, c), *y = relu ? a.floats(6, rows * c) : nullptr,
        *dx = a.floats(7, rows * c), *dg = a.floats(8, c), *db = a.floats(9, c),
        *dres = hasResidual ? a.floats(10, rows * c) : nullptr;
  if (!a.ok) return throwError(env, a.error);
  bnBackward(dy, x, mean, var, g, y, dx, dg, db, dres, rows, c, eps);
  return nullptr;
}

// blockPermute(heap, srcOff, dstOff, partition, numBlocks, batch, k, p, toBlocks): the
// random partition's permutation (§3). toBlocks: dst[b, n, c] = src[n, partition[bP + c]]
// ([B, K] → [N_p, B, P]); else its transpose, dst [B, K] zero outside the partition.
// `partition` is an Int32Array of N_p·P distinct indices in [0, K) (checked in range here).
// A copy: the same floats, any thread count.
napi_value BlockPermute(napi_env env, napi_callback_info info) {
  Args a(env, info, 9);
  a.readHeap(0);
  int64_t nb = a.integer(4), batch = a.integer(5), k = a.integer(6), p = a.integer(7);
  bool to = a.num(8) != 0;
  if (a.ok && (nb < 1 || batch < 1 || k < 1 || p < 1 || nb * p > k)) a.fail("blockPermute: bad sizes");
  const int32_t *pi = nullptr;
  if (a.ok) {
    bool is = false;
    napi_is_typedarray(env, a.v[3], &is);
    napi_typedarray_type type = napi_uint8_array;
    size_t length = 0, offset = 0;
    void *data = nullptr;
    napi_value ab;
    if (is) napi_get_typedarray_info(env, a.v[3], &type, &length, &data, &ab, &offset);
    if (!is || type != napi_int32_array || int64_t(length) != nb * p)
      a.fail("blockPermute: the partition must be an Int32Array of numBlocks·p indices");
    pi = static_cast<const int32_t *>(data);
    for (int64_t i = 0; a.ok && i < nb * p; i++)
      if (pi[i] < 0 || pi[i] >= k) a.fail("blockPermute: a partition index lies outside [0, k)");
  }
  const int64_t blocked = nb * batch * p, logits = batch * k;
  float *src = a.floats(1, to ? logits : blocked), *dst = a.floats(2, to ? blocked : logits);
  if (!a.ok) return throwError(env, a.error);
  OmpThreads t;
  if (!to && nb * p < k) std::fill(dst, dst + logits, 0.f);
  // Rows n of the logits: each reads (or writes) one row of K floats, cache-resident.
  parallelFor(batch, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, nb * p)),
              [&](int64_t n0, int64_t n1) {
                for (int64_t n = n0; n < n1; n++) {
                  for (int64_t b = 0; b < nb; b++) {
                    const int32_t *cols = pi + b * p;
                    if (to) {
                      const float *row = src + n * k;
                      float *o = dst + (b * batch + n) * p;
                      for (int64_t c = 0; c < p; c++) o[c] = row[cols[c]];
                    } else {
                      float *row = dst + n * k;
                      const float *o = src + (b * batch + n) * p;
                      for (int64_t c = 0; c < p; c++) row[cols[c]] = o[c];
                    }
                  }
                }
              });
  return nullptr;
}

// gelu(heap, xOff, yOff, n) and geluGrad(heap, dyOff, xOff, dxOff, n): gelu.h. An
// element-wise map: the same result at any thread count.
napi_value Gelu(napi_env env, napi_callback_info info) {
  Args a(env, info, 4);
  a.readHeap(0);
  int64_t n = a.integer(3);
  if (a.ok && n < 1) a.fail("gelu: bad size");
  float *x = a.floats(1, n), *y = a.floats(2, n);
  if (!a.ok) return throwError(env, a.error);
  geluForward(x, y, n);
  return nullptr;
}

napi_value GeluGrad(napi_env env, napi_callback_info info) {
  Args a(env, info, 5);
  a.readHeap(0);
  int64_t n = a.integer(4);
  if (a.ok && n < 1) a.fail("geluGrad: bad size");
  float *dy = a.floats(1, n), *x = a.floats(2, n), *dx = a.floats(3, n);
  if (!a.ok) return throwError(env, a.error);
  geluBackward(dy, x, dx, n);
  return nullptr;
}

// larsStep(heap, pOff, gOff, vOff, pOutOff, vOutOff, n, lr, decay, momentum, eta, trust)
// and emaStep(heap, tOff, sOff, outOff, n, momentum, 1 − momentum): optimizerStep.h.
napi_value LarsStep(napi_env env, napi_callback_info info) {
  Args a(env, info, 12);
  a.readHeap(0);
  int64_t n = a.integer(6);
  float lr = float(a.num(7)), decay = float(a.num(8)), mu = float(a.num(9)), eta = float(a.num(10));
  bool trust = a.num(11) != 0;
  if (a.ok && n < 1) a.fail("larsStep: bad size");
  float *p = a.floats(1, n), *g = a.floats(2, n), *v = a.floats(3, n), *pOut = a.floats(4, n),
        *vOut = a.floats(5, n);
  if (!a.ok) return throwError(env, a.error);
  larsStep(p, g, v, pOut, vOut, n, lr, decay, mu, eta, trust);
  return nullptr;
}

napi_value EmaStep(napi_env env, napi_callback_info info) {
  Args a(env, info, 7);
  a.readHeap(0);
  int64_t n = a.integer(4);
  float m = float(a.num(5)), k = float(a.num(6));
  if (a.ok && n < 1) a.fail("emaStep: bad size");
  float *t = a.floats(1, n), *s = a.floats(2, n), *out = a.floats(3, n);
  if (!a.ok) return throwError(env, a.error);
  emaStep(t, s, out, n, m, k);
  return nullptr;
}

// carpLoss(heap, logitsOff, q0Off, q1Off, partition, views, batch, k, p, lambda, termsOff,
//          gradOff, student0Off): the fused CARP loss (carpLoss.h). `partition` is an
// Int32Array of N_p·P distinct indices in [0, k) (N_p = its length / p; checked here).
napi_value CarpLoss(napi_env env, napi_callback_info info) {
  Args a(env, info, 13);
  a.readHeap(0);
  CarpLossShape s{a.integer(5), a.integer(6), a.integer(7), a.integer(8), 0};
  const double lambda = a.num(9);
  if (a.ok && (s.views < 2 || s.batch < 1 || s.k < 1 || s.p < 1 || s.p > s.k))
    a.fail("carpLoss: bad sizes");
  if (a.ok && !(lambda >= 0 && std::isfinite(lambda))) a.fail("carpLoss: λ must be finite and ≥ 0");
  const int32_t *pi = nullptr;
  if (a.ok) {
    bool is = false;
    napi_is_typedarray(env, a.v[4], &is);
    napi_typedarray_type type = napi_uint8_array;
    size_t length = 0, offset = 0;
    void *data = nullptr;
    napi_value ab;
    if (is) napi_get_typedarray_info(env, a.v[4], &type, &length, &data, &ab, &offset);
    if (!is || type != napi_int32_array || length == 0 || int64_t(length) % s.p != 0 ||
        int64_t(length) > s.k)
      a.fail("carpLoss: the partition must be an Int32Array of N_p·P indices, N_p·P ≤ K");
    pi = static_cast<const int32_t *>(data);
    s.blocks = int64_t(length) / s.p;
    std::vector<uint8_t> seen(a.ok ? s.k : 0, 0);
    for (int64_t i = 0; a.ok && i < s.blocks * s.p; i++) {
      if (pi[i] < 0 || pi[i] >= s.k) a.fail("carpLoss: a partition index lies outside [0, k)");
      else if (seen[pi[i]]++) a.fail("carpLoss: a partition index appears twice");
    }
  }
  const int64_t blocked = s.blocks * s.batch * s.p, logits = s.views * s.batch * s.k;
  float *x = a.floats(1, logits), *q0 = a.floats(2, blocked), *q1 = a.floats(3, blocked),
        *terms = a.floats(10, 3), *grad = a.floats(11, logits),
        *student0 = a.floats(12, s.batch * s.p);
  if (!a.ok) return throwError(env, a.error);
  carpLossFused(x, q0, q1, pi, s, lambda, terms, grad, student0);
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

/// The oneDNN version and the instruction set its kernels use on this CPU.
napi_value EngineInfo(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  std::string library = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) +
                        "." + std::to_string(v->patch);
  napi_value out, lib, isa;
  napi_create_object(env, &out);
  napi_create_string_utf8(env, library.c_str(), NAPI_AUTO_LENGTH, &lib);
  napi_create_string_utf8(env, onednn::isaName(), NAPI_AUTO_LENGTH, &isa);
  napi_set_named_property(env, out, "library", lib);
  napi_set_named_property(env, out, "isa", isa);
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"conv2d", Conv2D},
             {"convBnInference", ConvBnInference},
             {"conv2dBackpropInput", Conv2DBackpropInput},
             {"conv2dBackpropFilter", Conv2DBackpropFilter},
             {"matMul", MatMul},
             {"maxPoolGrad", MaxPoolGrad},
             {"batchNormForward", BatchNormForward},
             {"batchNormBackward", BatchNormBackward},
             {"batchNormInference", BatchNormInference},
             {"blockPermute", BlockPermute},
             {"carpLoss", CarpLoss},
             {"gelu", Gelu},
             {"geluGrad", GeluGrad},
             {"larsStep", LarsStep},
             {"emaStep", EmaStep},
             {"setThreads", SetThreads},
             {"getThreads", GetThreads},
             {"engineInfo", EngineInfo}};
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
