// Threads of the native kernels: our own parallel loops and oneDNN's run on one OpenMP pool
// (libgomp, which Debian's libdnnl is built against), sized by g_threads (set from JS
// through setThreads). See carp_native.cc.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

namespace carp {

// Threads of oneDNN and of our own loops. Set from JS (setThreads).
inline int g_threads = 1;

/// Runs fn(begin, end) over [0, n) split into at most `g_threads` contiguous parts, on the
/// OpenMP pool oneDNN uses too (one pool: two pools on the same cores spin against each
/// other). Each part gets at least `minPerThread` items, so small ranges run inline: waking
/// the pool costs a few µs, more when its threads have gone to sleep. The split depends only
/// on n, minPerThread and g_threads.
inline void parallelFor(int64_t n, int64_t minPerThread,
                        const std::function<void(int64_t, int64_t)> &fn) {
  int64_t parts =
      std::min<int64_t>(g_threads, std::max<int64_t>(1, n / std::max<int64_t>(1, minPerThread)));
  if (parts <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  const int64_t step = (n + parts - 1) / parts;
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int64_t p = 0; p < parts; p++) {
    int64_t b = p * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  }
}

/// OpenMP threads (oneDNN's) set to g_threads for the duration of one kernel and restored
/// after: faiss runs its own OpenMP loops with its own count.
struct OmpThreads {
  int saved;
  OmpThreads() : saved(omp_get_max_threads()) {
    if (saved != g_threads) omp_set_num_threads(g_threads);
  }
  ~OmpThreads() {
    if (omp_get_max_threads() != saved) omp_set_num_threads(saved);
  }
};

}  // namespace carp
