// Row-major SGEMM on oneDNN (dnnl_sgemm: its AVX-512 GEMM, on the same OpenMP pool as its
// convolutions and our loops), for matMul and the im2col convolutions. It matched or beat
// OpenBLAS 0.3.21 on every product of a CARP step we measured (head and 1×1 shapes, 1 and
// 2 threads), and a second library's thread pool spinning next to OpenMP's cost more
// than either.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "dnnl.h"
#include "threads.h"

namespace carp {

/// C[M, N] = alpha · op(A) · op(B) + beta · C, row-major, op = transpose where asked.
/// Bit-identical from run to run for a fixed thread count (oneDNN splits by output
/// blocks, and a split of K is reduced in a fixed order).
inline void sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  OmpThreads t;
  dnnl_status_t s =
      dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success) throw std::runtime_error("dnnl_sgemm failed (status " + std::to_string(int(s)) + ")");
}

}  // namespace carp
