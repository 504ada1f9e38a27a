// Threads of the native kernels: our own parallel loops (std::thread) and OpenBLAS's, both
// sized by g_threads (set from JS through setThreads). See carp_native.cc.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

extern "C" {
#include <cblas.h>
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);
}

namespace carp {

// Threads for GEMM (OpenBLAS) and for our own loops. Set from JS (setThreads).
inline int g_threads = 1;

/// Runs fn(begin, end) over [0, n) split into `g_threads` contiguous parts (the calling
/// thread takes the first). Each part gets at least `minPerThread` items, so small ranges
/// run inline: a thread start costs ≈ 20 µs, the time to copy ≈ 100 KiB.
inline void parallelFor(int64_t n, int64_t minPerThread,
                        const std::function<void(int64_t, int64_t)> &fn) {
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
/// OpenMP threads and wants OpenBLAS single-threaded (architecture §7.1).
struct BlasThreads {
  int saved;
  BlasThreads() : saved(openblas_get_num_threads()) {
    if (saved != g_threads) openblas_set_num_threads(g_threads);
  }
  ~BlasThreads() {
    if (openblas_get_num_threads() != saved) openblas_set_num_threads(saved);
  }
};

}  // namespace carp
