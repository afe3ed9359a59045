// Repeated solves on the same topology reuse every buffer: no allocation (malloc is counted
// while a test enables it).
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <cmath>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Count malloc itself (operator new goes through it): on glibc, a malloc defined in the executable
// interposes the C library's and forwards to __libc_malloc. Sanitizers intercept malloc
// themselves, so there the test is skipped.
#if defined(__SANITIZE_ADDRESS__)
#define INCISION_PARTITION_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INCISION_PARTITION_COUNT_MALLOC 0
#endif
#endif
#if !defined(INCISION_PARTITION_COUNT_MALLOC) && defined(__GLIBC__)
#define INCISION_PARTITION_COUNT_MALLOC 1
extern "C" void* __libc_malloc(std::size_t n);
extern "C" void* malloc(std::size_t n) noexcept {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#endif
#if !defined(INCISION_PARTITION_COUNT_MALLOC)
#define INCISION_PARTITION_COUNT_MALLOC 0
#endif

namespace {
struct count_scope {
  count_scope() {
    allocations = 0;
    counting = true;
  }
  ~count_scope() { counting = false; }
};
}  // namespace

namespace ip = incision::partition;

TEST_CASE("dsl_solver re-solves (new bandwidths, DSH weights) without allocating"
          * doctest::skip(INCISION_PARTITION_COUNT_MALLOC == 0)) {
  const auto g = ip::load_msr_json(std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle" / "op_resnet50_inference.json");
  ip::dsl_solver s;
  s.assign(g, g);
  std::vector<ip::side> placement;
  const double inf = std::numeric_limits<double>::infinity();
  (void)s.solve_cut({1e6, 0.0, inf}, {}, placement);  // first solve compiles the CSR arrays
  double total = 0.0;
  long counted = 0;
  {
    const count_scope scope;
    for (int k = 0; k < 50; ++k) {
      const double bw = 1e5 * std::pow(10.0, k / 10.0);
      total += s.solve_cut({bw, 0.0, inf}, {1.0 + 0.1 * k, 1.0, 1.0 / (1.0 + k)}, placement);
    }
    counted = allocations.load();
  }
  CHECK(counted == 0);
  CHECK(total > 0.0);
  {  // positive control: the counter does see allocations
    const count_scope scope;
    std::vector<double> v(100, 1.0);
    total += v[7];
    counted = allocations.load();
  }
  CHECK(counted >= 1);
}

TEST_CASE("max_flow re-solve with new capacities does not allocate"
          * doctest::skip(INCISION_PARTITION_COUNT_MALLOC == 0)) {
  ip::max_flow mf;
  mf.reset(50);
  for (ip::max_flow::vertex v = 0; v + 1 < 50; ++v) mf.add_arc(v, v + 1, 1.0, ip::max_flow::infinity);
  for (ip::max_flow::vertex v = 0; v < 50; ++v) mf.set_terminal(v, 0.5 * (v % 3), 0.4 * (v % 4));
  (void)mf.solve();
  long counted = 0;
  {
    const count_scope scope;
    for (int k = 0; k < 20; ++k) {
      mf.set_arc(static_cast<ip::max_flow::arc_id>(k), 0.1 * k, 0.0);
      mf.set_terminal(static_cast<ip::max_flow::vertex>(k), 1.0 * k, 0.5);
      (void)mf.solve();
    }
    counted = allocations.load();
  }
  CHECK(counted == 0);
}
