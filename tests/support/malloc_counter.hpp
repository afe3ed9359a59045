// Counts calls to malloc while a count_scope is alive, so tests can prove a hot path does not
// allocate. Include it from exactly one TU per test executable: it defines malloc.
//
// Eigen and operator new allocate with malloc, so malloc itself is counted: on glibc, a malloc
// defined in the executable interposes the C library's and forwards to __libc_malloc. Sanitizers
// intercept malloc themselves; there INCISION_TEST_COUNT_MALLOC is 0 and the tests skip.
#pragma once

#include <atomic>
#include <cstddef>

namespace incision_test {
inline std::atomic<bool> counting{false};
inline std::atomic<long> allocations{0};

/// Counts allocations from construction to destruction (the count starts at zero).
struct count_scope {
  count_scope() {
    allocations = 0;
    counting = true;
  }
  ~count_scope() { counting = false; }
  count_scope(const count_scope&) = delete;
  count_scope& operator=(const count_scope&) = delete;
};
}  // namespace incision_test

#if defined(__SANITIZE_ADDRESS__)
#define INCISION_TEST_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INCISION_TEST_COUNT_MALLOC 0
#endif
#endif
#if !defined(INCISION_TEST_COUNT_MALLOC) && defined(__GLIBC__)
#define INCISION_TEST_COUNT_MALLOC 1
extern "C" void* __libc_malloc(std::size_t n);
extern "C" void* malloc(std::size_t n) noexcept {
  if (incision_test::counting.load(std::memory_order_relaxed))
    incision_test::allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#endif
#if !defined(INCISION_TEST_COUNT_MALLOC)
#define INCISION_TEST_COUNT_MALLOC 0
#endif
