// Convolutions (forward, backward data, backward weights) and matrix products on oneDNN
// (Debian's libdnnl, the library PyTorch's CPU convolutions run on), NHWC, in place on the
// caller's buffers. See carp_native.cc for why and for the determinism rule.
//
// Layouts stay tfjs's: activations NHWC (oneDNN tag `nhwc`), filters [fh, fw, inC, outC]
// (tag `hwio`). Each primitive is created with its weights in the format oneDNN prefers
// (`any`, a blocked layout for its direct kernels); the filter is reordered into that
// format at each call (it changes every step; a few KiB to a few MiB) and, for the
// weight gradient, back into hwio. Activations are never reordered.
//
// Primitives are cached by kind, geometry and thread count: creating one JITs code and
// costs ≈ 1 ms, a step uses ≈ 60 distinct ones.
#pragma once

#include <omp.h>

#include <cstring>
#include <map>
#include <memory>
#include <tuple>

#include "conv.h"
#include "dnnl.hpp"
#include "threads.h"

namespace carp {
namespace onednn {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/// The instruction set oneDNN dispatches to on this CPU, by oneDNN's name for it.
inline const char *isaName() {
  switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41:
      return "sse41";
    case dnnl_cpu_isa_avx:
      return "avx";
    case dnnl_cpu_isa_avx2:
      return "avx2";
    case dnnl_cpu_isa_avx2_vnni:
      return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core:
      return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx:
      return "avx512_core_amx";
    default:
      return "other";
  }
}

inline dnnl::engine &engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

inline dnnl::stream &stream() {
  static dnnl::stream s(engine());
  return s;
}

/// Padding after the image (bottom, right) that makes oneDNN's output size equal ours:
/// out = (in + before + after − span) / stride + 1, floored. Of the `stride` values that
/// fit, the smallest non-negative one; negative only when none is (never for tfjs's
/// 'same' or 'valid').
inline int64_t padAfter(int64_t in, int64_t before, int64_t span, int64_t stride, int64_t out) {
  int64_t least = (out - 1) * stride + span - in - before;
  return least >= 0 ? least : std::min<int64_t>(0, least + stride - 1);
}

enum class Kind { Forward, BackwardData, BackwardWeights };

/// Whether the geometry fits oneDNN's padding rule (see padAfter).
inline bool fits(const Conv &g) {
  return padAfter(g.h, g.top, (g.fh - 1) * g.dh + 1, g.sh, g.ho) >= 0 &&
         padAfter(g.w, g.left, (g.fw - 1) * g.dw + 1, g.sw, g.wo) >= 0;
}

/// Key of a cached primitive: its kind, the 15 numbers of the geometry, the threads.
using Key = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int>;

inline Key keyOf(Kind k, const Conv &g) {
  return Key(int(k), g.n, g.h, g.w, g.c, g.o, g.fh, g.fw, g.sh, g.sw, g.dh, g.dw, g.top, g.left,
             g.ho, g.wo, g_threads);
}

/// A convolution primitive of one kind and geometry, with the weight reorders it needs.
struct ConvPrimitive {
  dnnl::primitive conv;
  memory::desc weights;  // the primitive's (possibly blocked) weights
  bool reorderWeights = false;
  dnnl::reorder toBlocked, fromBlocked;  // hwio → weights, weights → hwio
  std::string impl;
};

inline memory::desc nhwc(int64_t n, int64_t h, int64_t w, int64_t c) {
  return memory::desc({n, c, h, w}, dt::f32, tag::nhwc);
}

inline memory::desc hwio(const Conv &g) {
  return memory::desc({g.o, g.c, g.fh, g.fw}, dt::f32, tag::hwio);
}

inline ConvPrimitive makeConv(Kind kind, const Conv &g) {
  OmpThreads t;  // oneDNN sizes its work split for the threads at creation
  const memory::dims strides = {g.sh, g.sw}, dil = {g.dh - 1, g.dw - 1},
                     padL = {g.top, g.left},
                     padR = {padAfter(g.h, g.top, (g.fh - 1) * g.dh + 1, g.sh, g.ho),
                             padAfter(g.w, g.left, (g.fw - 1) * g.dw + 1, g.sw, g.wo)};
  const auto src = nhwc(g.n, g.h, g.w, g.c), dst = nhwc(g.n, g.ho, g.wo, g.o);
  const auto anyW = memory::desc({g.o, g.c, g.fh, g.fw}, dt::f32, tag::any);
  auto &eng = engine();
  dnnl::convolution_forward::primitive_desc fwd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                      dnnl::algorithm::convolution_direct, src, anyW, dst, strides,
                                      dil, padL, padR),
      eng);
  ConvPrimitive p;
  if (kind == Kind::Forward) {
    p.conv = dnnl::convolution_forward(fwd);
    p.weights = fwd.weights_desc();
    p.impl = fwd.impl_info_str();
  } else if (kind == Kind::BackwardData) {
    dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src, anyW, dst,
                                              strides, dil, padL, padR),
        eng, fwd);
    p.conv = dnnl::convolution_backward_data(pd);
    p.weights = pd.weights_desc();
    p.impl = pd.impl_info_str();
  } else {
    dnnl::convolution_backward_weights::primitive_desc pd(
        dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src, anyW,
                                                 dst, strides, dil, padL, padR),
        eng, fwd);
    p.conv = dnnl::convolution_backward_weights(pd);
    p.weights = pd.diff_weights_desc();
    p.impl = pd.impl_info_str();
  }
  p.reorderWeights = p.weights != hwio(g);
  if (p.reorderWeights) {
    if (kind == Kind::BackwardWeights)
      p.fromBlocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, p.weights, eng, hwio(g)));
    else
      p.toBlocked = dnnl::reorder(dnnl::reorder::primitive_desc(eng, hwio(g), eng, p.weights));
  }
  return p;
}

/// Cached primitives at most; beyond, the cache starts over (evaluation at many batch sizes
/// must not grow it without bound; a training step uses ≈ 60).
constexpr size_t CACHE_LIMIT = 1024;

inline std::map<Key, std::unique_ptr<ConvPrimitive>> &cache() {
  static std::map<Key, std::unique_ptr<ConvPrimitive>> c;
  return c;
}

/// The cached primitive for (kind, geometry, threads), created on first use.
inline ConvPrimitive &convPrimitive(Kind kind, const Conv &g) {
  auto &c = cache();
  Key k = keyOf(kind, g);
  auto it = c.find(k);
  if (it == c.end() && c.size() >= CACHE_LIMIT) c.clear();
  if (it == c.end()) it = c.emplace(k, std::make_unique<ConvPrimitive>(makeConv(kind, g))).first;
  return *it->second;
}

/// Whether oneDNN takes this convolution, or im2col + SGEMM (conv.h) does. A fixed rule of
/// the geometry (never a timing: the choice must be the same in every process, or a resumed
/// run would round differently), from timing both on every convolution of ResNet-18 at
/// widths 16, 32 and 64 when oneDNN came in (the slow-downs below are those timings; the
/// per-convolution table was not kept). im2col where oneDNN's direct kernels were clearly
/// slower:
///  - the input gradient of < 4 input channels (a stem): 2–6× slower;
///  - a 1×1 input gradient oneDNN does not run on its 1×1 kernel (strided shortcuts):
///    up to 3× slower;
///  - the weight gradient on small maps with wide channels (output width ≤ 2 at ≥ 128 input
///    channels, ≤ 4 at ≥ 512, or ≤ 8 when strided at ≥ 64): its kernel blocks along the
///    output row, and a row of 2–8 pixels leaves it 1.2–4× slower than one GEMM with
///    K = fh·fw·c. Re-timed 2026-12-04 (both paths on the shapes of widths 16–64, 1 and 2 threads): at 4 pixels and
///    128–256 channels, stride 1, oneDNN is 12–20 % faster (e.g. 256 images, 4×4, 256 → 256:
///    46 against 54 ms at 1 thread), so those went back to it.
inline bool takes(Kind kind, const Conv &g) {
  if (!fits(g)) return false;
  switch (kind) {
    case Kind::Forward:
      return true;
    case Kind::BackwardData:
      if (g.c < 4) return false;
      if (g.fh == 1 && g.fw == 1)
        return convPrimitive(kind, g).impl.find("1x1") != std::string::npos;
      return true;
    case Kind::BackwardWeights:
      return !((g.c >= 128 && g.wo <= 2) || (g.c >= 512 && g.wo <= 4) ||
               (g.c >= 64 && g.sw > 1 && g.wo <= 8));
  }
  return true;
}

/// Scratch for blocked weights, reused across calls (grown as needed, 64-byte aligned).
inline float *weightScratch(size_t bytes) {
  static std::vector<float> buf;
  size_t floats = (bytes + sizeof(float) - 1) / sizeof(float) + 16;
  if (buf.size() < floats) buf.resize(floats);
  auto addr = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float *>((addr + 63) & ~uintptr_t(63));
}

inline memory wrap(const memory::desc &d, const float *p) {
  return memory(d, engine(), const_cast<float *>(p));
}

/// y = conv(x, w).
inline void forward(const Conv &g, const float *x, const float *w, float *y) {
  OmpThreads t;
  ConvPrimitive &p = convPrimitive(Kind::Forward, g);
  auto &s = stream();
  memory wm = wrap(hwio(g), w);
  if (p.reorderWeights) {
    memory blocked = wrap(p.weights, weightScratch(p.weights.get_size()));
    p.toBlocked.execute(s, wm, blocked);
    wm = blocked;
  }
  p.conv.execute(s, {{DNNL_ARG_SRC, wrap(nhwc(g.n, g.h, g.w, g.c), x)},
                     {DNNL_ARG_WEIGHTS, wm},
                     {DNNL_ARG_DST, wrap(nhwc(g.n, g.ho, g.wo, g.o), y)}});
  s.wait();
}

/// dx = the gradient of conv(·, w) at dy.
inline void backwardData(const Conv &g, const float *dy, const float *w, float *dx) {
  OmpThreads t;
  ConvPrimitive &p = convPrimitive(Kind::BackwardData, g);
  auto &s = stream();
  memory wm = wrap(hwio(g), w);
  if (p.reorderWeights) {
    memory blocked = wrap(p.weights, weightScratch(p.weights.get_size()));
    p.toBlocked.execute(s, wm, blocked);
    wm = blocked;
  }
  p.conv.execute(s, {{DNNL_ARG_DIFF_DST, wrap(nhwc(g.n, g.ho, g.wo, g.o), dy)},
                     {DNNL_ARG_WEIGHTS, wm},
                     {DNNL_ARG_DIFF_SRC, wrap(nhwc(g.n, g.h, g.w, g.c), dx)}});
  s.wait();
}

/// dw = the gradient of conv(x, ·) at dy, in hwio.
inline void backwardWeights(const Conv &g, const float *x, const float *dy, float *dw) {
  OmpThreads t;
  ConvPrimitive &p = convPrimitive(Kind::BackwardWeights, g);
  auto &s = stream();
  memory out = wrap(hwio(g), dw);
  memory wm = p.reorderWeights ? wrap(p.weights, weightScratch(p.weights.get_size())) : out;
  p.conv.execute(s, {{DNNL_ARG_SRC, wrap(nhwc(g.n, g.h, g.w, g.c), x)},
                     {DNNL_ARG_DIFF_DST, wrap(nhwc(g.n, g.ho, g.wo, g.o), dy)},
                     {DNNL_ARG_DIFF_WEIGHTS, wm}});
  if (p.reorderWeights) p.fromBlocked.execute(s, wm, out);
  s.wait();
}

// ---------------------------------------------------------------------------------------
// Evaluation mode: convolution → batch norm with running statistics (→ + residual) (→ ReLU)
// as one primitive. The norm is folded into the convolution (w'[…, o] = w[…, o]·scale[o],
// bias = shift), the residual and ReLU are oneDNN post-ops (sum, eltwise): the output is
// written once, where conv + norm wrote it, read it back and wrote it again. No gradient
// (feature extraction only).

/// The folded primitive of a geometry and epilogue, cached like the others.
inline ConvPrimitive makeFolded(const Conv &g, bool residual, bool relu) {
  OmpThreads t;
  const memory::dims strides = {g.sh, g.sw}, dil = {g.dh - 1, g.dw - 1},
                     padL = {g.top, g.left},
                     padR = {padAfter(g.h, g.top, (g.fh - 1) * g.dh + 1, g.sh, g.ho),
                             padAfter(g.w, g.left, (g.fw - 1) * g.dw + 1, g.sw, g.wo)};
  const auto src = nhwc(g.n, g.h, g.w, g.c), dst = nhwc(g.n, g.ho, g.wo, g.o);
  const auto anyW = memory::desc({g.o, g.c, g.fh, g.fw}, dt::f32, tag::any);
  const auto bias = memory::desc({g.o}, dt::f32, tag::a);
  dnnl::post_ops ops;
  if (residual) ops.append_sum(1.f);
  if (relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                      dnnl::algorithm::convolution_direct, src, anyW, bias, dst,
                                      strides, dil, padL, padR),
      attr, engine());
  ConvPrimitive p;
  p.conv = dnnl::convolution_forward(pd);
  p.weights = pd.weights_desc();
  p.impl = pd.impl_info_str();
  p.reorderWeights = p.weights != hwio(g);
  if (p.reorderWeights)
    p.toBlocked =
        dnnl::reorder(dnnl::reorder::primitive_desc(engine(), hwio(g), engine(), p.weights));
  return p;
}

inline ConvPrimitive &foldedPrimitive(const Conv &g, bool residual, bool relu) {
  static std::map<Key, std::unique_ptr<ConvPrimitive>> c;
  // Kind codes past the three of Kind: 8 + the epilogue bits.
  Key k = keyOf(Kind(8 + (residual ? 2 : 0) + (relu ? 1 : 0)), g);
  auto it = c.find(k);
  if (it == c.end() && c.size() >= CACHE_LIMIT) c.clear();
  if (it == c.end())
    it = c.emplace(k, std::make_unique<ConvPrimitive>(makeFolded(g, residual, relu))).first;
  return *it->second;
}

/// y = relu?(conv(x, w)·scale + shift (+ residual)), scale and shift per output channel
/// (evaluation-mode batch norm: scale = γ/√(running σ² + ε), shift = β − running μ·scale).
/// `residual` may be null. Only where `fits(g)`.
inline void forwardFolded(const Conv &g, const float *x, const float *w, const float *scale,
                          const float *shift, const float *residual, float *y, bool relu) {
  OmpThreads t;
  ConvPrimitive &p = foldedPrimitive(g, residual != nullptr, relu);
  auto &s = stream();
  // The scaled filter, hwio (the output channel is the fastest axis).
  static std::vector<float> folded;
  const int64_t taps = g.fh * g.fw * g.c;
  folded.resize(taps * g.o);
  for (int64_t i = 0; i < taps; i++)
    for (int64_t o = 0; o < g.o; o++) folded[i * g.o + o] = w[i * g.o + o] * scale[o];
  memory wm = wrap(hwio(g), folded.data());
  if (p.reorderWeights) {
    memory blocked = wrap(p.weights, weightScratch(p.weights.get_size()));
    p.toBlocked.execute(s, wm, blocked);
    wm = blocked;
  }
  // The sum post-op adds to what the output holds: the residual, copied there first.
  if (residual) std::memcpy(y, residual, sizeof(float) * g.n * g.ho * g.wo * g.o);
  p.conv.execute(s, {{DNNL_ARG_SRC, wrap(nhwc(g.n, g.h, g.w, g.c), x)},
                     {DNNL_ARG_WEIGHTS, wm},
                     {DNNL_ARG_BIAS, wrap(memory::desc({g.o}, dt::f32, tag::a), shift)},
                     {DNNL_ARG_DST, wrap(nhwc(g.n, g.ho, g.wo, g.o), y)}});
  s.wait();
}

}  // namespace onednn
}  // namespace carp
