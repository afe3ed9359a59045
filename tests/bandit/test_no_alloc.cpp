// The per-frame hot paths (select, update) must not allocate. This TU replaces the global
// operator new/delete with counting versions (counting only while a test enables it).
#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/disjoint_linucb.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>

#include "bandit/support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

// Eigen allocates with std::malloc, so count malloc itself: on glibc, a malloc defined in the
// executable interposes the C library's and forwards to __libc_malloc. Sanitizers intercept
// malloc themselves, so there the test is skipped.
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
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#endif
#if !defined(INCISION_TEST_COUNT_MALLOC)
#define INCISION_TEST_COUNT_MALLOC 0
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

TEST_CASE("bandit hot paths do not allocate (select, update; fixed and dynamic d)"
          * doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  using incision::bandit::discounted_stats;
  using incision::bandit::disjoint_linucb;
  using incision::bandit::linucb;
  using incision::bandit::mu_linucb;
  using incision::bandit::window_stats;
  const auto t = bandit_test::load_arm_table("vgg16_arms.csv");
  mu_linucb<> dyn(t.contexts, t.front);
  mu_linucb<7> fixed(t.contexts, t.front);
  mu_linucb<Eigen::Dynamic, discounted_stats<>> disc(t.contexts, t.front, discounted_stats<>(7, 1.0, 0.99), {});
  mu_linucb<Eigen::Dynamic, window_stats<>> win(t.contexts, t.front, window_stats<>(7, 1.0, 50), {});
  linucb<> lin(16, 1.0, 1.0);
  disjoint_linucb<> dis(10, 16, 1.0, 1.0);
  // Row-major, so X.row(a) binds to Ref<const VectorXd> without a temporary (as numpy rows do).
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X =
      Eigen::MatrixXd::Random(10, 16);
  Eigen::VectorXd x = Eigen::VectorXd::Random(16);
  // Warm up (the first Cholesky refresh sizes its workspace once).
  for (int i = 0; i < 3000; ++i) {
    dyn.update(dyn.select(i % 5 == 0), 0.2 + 0.001 * (i % 7));
    disc.update(disc.select(false), 0.3);
    win.update(win.select(false), 0.3);
    lin.update(X.row(static_cast<Eigen::Index>(lin.select(X))).transpose(), 0.1);
    dis.update(dis.select(x), x, 0.1);
  }
  // The counter itself works.
  {
    count_scope scope;
    Eigen::VectorXd probe(32);
    probe.setZero();
    CHECK(allocations.load() == 1);
  }
  long seen = 0;
  {
    count_scope scope;
    for (int i = 0; i < 2000; ++i) {
      dyn.update(dyn.select(i % 5 == 0), 0.2 + 0.001 * (i % 7));
      fixed.update(fixed.select(i % 5 == 0), 0.2 + 0.001 * (i % 7));
      disc.update(disc.select(false), 0.3);
      win.update(win.select(false), 0.3);
      const auto a = lin.select(X);
      lin.update(X.row(static_cast<Eigen::Index>(a)).transpose(), 0.1);
      dis.update(dis.select(x), x, 0.1);
    }
    seen = allocations.load();
  }
  CHECK(seen == 0);
}
