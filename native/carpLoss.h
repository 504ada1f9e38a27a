// The CARP loss fused into one kernel (docs/method.md §3–§4): per-block softmax of the
// student's logits under the random partition, L_cons against the two teacher views,
// L_reg on the block marginals, and the gradient of L = L_cons + λ·L_reg with respect to
// the student's logits — one pass over the logits where the composed tfjs graph made
// ≈ 400 kernel calls (≈ 0.1 s of a width-8 step at B 128, K 4096).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "threads.h"
#include "vecmath.h"

namespace carp {

struct CarpLossShape {
  int64_t views;      // V: student views (2 global first, then the locals)
  int64_t batch;      // B
  int64_t k;          // K prototypes
  int64_t p;          // P prototypes per block
  int64_t blocks;     // N_p = floor(K / P)
};

/// logits [V·B, K] (view-major rows), q0 / q1 the teacher's block probabilities
/// [N_p, B, P], pi the partition (N_p·P distinct indices). Writes terms[3] = L_cons,
/// L_reg, L_cons + λ·L_reg; grad [V·B, K] = ∂L/∂logits (zero for prototypes outside the
/// partition); student0 [B, P] = the student's view-0 block-0 probabilities (for the
/// pseudo-label accuracy). Clamps and their gradients as torch.clamp / tfjs clipByValue:
/// ε = 2^-23, values in [ε, 1 − ε] pass the gradient, the others none.
/// Deterministic at any thread count: rows are independent, and every sum runs in a fixed
/// order on one thread.
inline void carpLossFused(const float *logits, const float *q0, const float *q1,
                          const int32_t *pi, const CarpLossShape &s, double lambda,
                          float *terms, float *grad, float *student0) {
  const int64_t V = s.views, B = s.batch, K = s.k, P = s.p, N = s.blocks;
  const int64_t P16 = (P + 15) / 16 * 16;
  const float eps = 1.f / 8388608.f, hiClamp = 1.f - eps;
  const float *q[2] = {q0, q1};
  // Scratch kept between calls: a fresh 12 MiB block each step costs its page faults
  // (≈ 15 % of the kernel). Kernels run on the JS thread, one at a time.
  static std::vector<float> probs, dots;
  probs.resize(V * N * B * P);  // p[v][n][b][c]
  dots.resize(V * 2 * N * B);   // ⟨p_v, q_u⟩[v][u][n][b]
  float *pr = probs.data(), *dt = dots.data();
  const int64_t rowsPerThread = std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(1, N * P));

  // 1. Softmax of each (row, block) and its dot products with both teacher views.
  parallelFor(V * B, rowsPerThread, [&](int64_t r0, int64_t r1) {
    std::vector<float> buf(P16);
    float *x = buf.data();
    for (int64_t r = r0; r < r1; r++) {
      const int64_t v = r / B, b = r % B;
      const float *row = logits + r * K;
      for (int64_t n = 0; n < N; n++) {
        const int32_t *cols = pi + n * P;
        for (int64_t c = 0; c < P; c++) x[c] = row[cols[c]];
        for (int64_t c = P; c < P16; c++) x[c] = x[0];  // padding, zeroed after the exp
        v16f mv = load16(x);
        for (int64_t c = 16; c < P16; c += 16) {
          const v16f xc = load16(x + c);
          mv = xc > mv ? xc : mv;
        }
        float m = mv[0];
        for (int i = 1; i < 16; i++) m = mv[i] > m ? mv[i] : m;
        v16f acc = v16f{};
        for (int64_t c = 0; c < P16; c += 16) {
          v16f e = exp16(load16(x + c) - m);
          if (c + 16 > P)
            for (int i = int(P - c); i < 16; i++) e[i] = 0.f;
          store16(x + c, e);
          acc += e;
        }
        const float inv = 1.f / sum16(acc);
        float *p = pr + ((v * N + n) * B + b) * P;
        for (int64_t c = 0; c < P; c++) p[c] = x[c] * inv;
        for (int u = 0; u < 2; u++) {
          dt[((v * 2 + u) * N + n) * B + b] = dot(p, q[u] + (n * B + b) * P, P);
        }
      }
    }
  });

  // 2. L_cons: mean over the 2(V − 1) pairs (v, u ≠ v) of mean_{n,b} −ln clamp(s); the
  // weight of each q_u in ∂L/∂p_v: −1/(s·pairs·N_p·B) inside the clamp, else 0.
  const double pairs = double(2 * (V - 1)), perPair = double(N * B);
  double cons = 0.0;
  std::vector<float> w(V * 2 * N * B, 0.f);
  for (int64_t v = 0; v < V; v++)
    for (int u = 0; u < 2; u++) {
      if (v == u) continue;
      double pairSum = 0.0;
      for (int64_t i = 0; i < N * B; i++) {
        const int64_t at = (v * 2 + u) * N * B + i;
        const float d = dt[at];
        const float c = d < eps ? eps : (d > hiClamp ? hiClamp : d);
        pairSum -= std::log(double(c));
        if (d >= eps && d <= hiClamp) w[at] = float(-1.0 / (double(d) * pairs * perPair));
      }
      cons += pairSum / perPair;
    }
  cons /= pairs;

  // 3. L_reg: m[n, c] = mean of the (V + 2)·B rows of block n (teacher rows without
  // gradient); L_reg = mean_n [ln P + Σ_c m ln clamp(m)]; ∂L_reg/∂p = (ln clamp(m) +
  // [m inside the clamp]) / (N_p·(V + 2)·B).
  const double rows = double((V + 2) * B);
  std::vector<float> gm(N * P);
  std::vector<double> regBlock(N);
  float *g = gm.data();
  parallelFor(N, 1, [&](int64_t n0, int64_t n1) {
    std::vector<float> col(P);
    for (int64_t n = n0; n < n1; n++) {
      std::fill(col.begin(), col.end(), 0.f);
      for (int64_t v = 0; v < V; v++)
        for (int64_t b = 0; b < B; b++) {
          const float *p = pr + ((v * N + n) * B + b) * P;
          for (int64_t c = 0; c < P; c++) col[c] += p[c];
        }
      for (int u = 0; u < 2; u++)
        for (int64_t b = 0; b < B; b++) {
          const float *qu = q[u] + (n * B + b) * P;
          for (int64_t c = 0; c < P; c++) col[c] += qu[c];
        }
      double reg = std::log(double(P));
      for (int64_t c = 0; c < P; c++) {
        const float m = float(col[c] / rows);
        const float mc = m < eps ? eps : (m > hiClamp ? hiClamp : m);
        const double lm = std::log(double(mc));
        reg += double(m) * lm;
        g[n * P + c] =
            float(lambda * (lm + (m >= eps && m <= hiClamp ? 1.0 : 0.0)) / (double(N) * rows));
      }
      regBlock[n] = reg;
    }
  });
  double reg = 0.0;
  for (int64_t n = 0; n < N; n++) reg += regBlock[n];
  reg /= double(N);
  terms[0] = float(cons);
  terms[1] = float(reg);
  // λ = 1: the sum of the two float terms, as the composed graph's tf.add(cons, reg).
  terms[2] = lambda == 1.0 ? terms[0] + terms[1] : terms[0] + float(float(reg) * float(lambda));

  // 4. ∂L/∂logits: per (row, block) g = ∂L/∂p, then the softmax's p ⊙ (g − ⟨g, p⟩),
  // scattered back to the prototypes' columns.
  const float *wt = w.data();
  parallelFor(V * B, rowsPerThread, [&](int64_t r0, int64_t r1) {
    std::vector<float> gb(P);
    for (int64_t r = r0; r < r1; r++) {
      const int64_t v = r / B, b = r % B;
      float *out = grad + r * K;
      if (N * P < K) std::fill(out, out + K, 0.f);
      for (int64_t n = 0; n < N; n++) {
        const float *p = pr + ((v * N + n) * B + b) * P;
        const float w0 = wt[((v * 2 + 0) * N + n) * B + b], w1 = wt[((v * 2 + 1) * N + n) * B + b];
        const float *qa = q[0] + (n * B + b) * P, *qb = q[1] + (n * B + b) * P, *gn = g + n * P;
        for (int64_t c = 0; c < P; c++) gb[c] = gn[c] + w0 * qa[c] + w1 * qb[c];
        const float gp = dot(gb.data(), p, P);
        const int32_t *cols = pi + n * P;
        for (int64_t c = 0; c < P; c++) out[cols[c]] = p[c] * (gb[c] - gp);
      }
    }
  });

  // 5. The student's view-0 block-0 probabilities.
  std::memcpy(student0, pr, sizeof(float) * B * P);
}

}  // namespace carp
