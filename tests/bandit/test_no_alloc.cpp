// The per-frame hot paths (select, update) must not allocate. This TU replaces the global
// operator new/delete with counting versions (counting only while a test enables it).
#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/disjoint_linucb.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>

#include "bandit/support.hpp"

#include "support/malloc_counter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>

using incision_test::allocations;
using incision_test::count_scope;

TEST_CASE("bandit hot paths do not allocate (select, update; fixed and dynamic d)" *
          doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
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
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X = Eigen::MatrixXd::Random(10, 16);
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
