// Numerical robustness of the bandit learners (issue 12 items 1, 9, 10, 17 and the smaller
// ones; issue 13's refresh promise): rejected updates change nothing, no parameter in range
// gives NaN scores or a non-positive-definite A, snapshots recompute derived state, a snapshot
// cannot make the reader allocate more than it holds, frame counts cannot overflow.
#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/disjoint_linucb.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/bandit/simulate.hpp>
#include <incision/bandit/window_stats.hpp>

#include "bandit/support.hpp"

#include <doctest/doctest.h>
#include <Eigen/Cholesky>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using incision::bandit::discounted_stats;
using incision::bandit::disjoint_linucb;
using incision::bandit::linucb;
using incision::bandit::mu_linucb;
using incision::bandit::ridge_stats;
using incision::bandit::window_stats;

namespace {

/// Overwrites the f64 at `offset` of a sealed snapshot's payload and re-seals it.
std::vector<std::byte> edit_f64(const std::vector<std::byte>& sealed, std::uint16_t kind, std::size_t offset,
                                double value) {
  const auto payload = incision::detail::unseal(sealed, kind, "test");
  std::vector<std::byte> p(payload.begin(), payload.end());
  const auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 0; i < 8; ++i)
    p[offset + static_cast<std::size_t>(i)] = static_cast<std::byte>((bits >> (8 * i)) & 0xFFU);
  return incision::detail::seal(kind, p);
}

double read_f64(const std::vector<std::byte>& sealed, std::uint16_t kind, std::size_t offset) {
  const auto payload = incision::detail::unseal(sealed, kind, "test");
  std::uint64_t bits = 0;
  for (int i = 0; i < 8; ++i)
    bits |= std::to_integer<std::uint64_t>(payload[offset + static_cast<std::size_t>(i)]) << (8 * i);
  return std::bit_cast<double>(bits);
}

bool positive_definite(const Eigen::MatrixXd& a) { return Eigen::LLT<Eigen::MatrixXd>(a).info() == Eigen::Success; }

}  // namespace

TEST_CASE("numerics: an update whose result would not be finite is rejected, state unchanged") {
  linucb<3> pol(3, 1.0, 1.0);
  pol.update(Eigen::Vector3d(1, 2, 3), 0.5);
  const auto before = pol.snapshot();
  CHECK_THROWS_WITH_AS(pol.update(Eigen::Vector3d(1e200, 0, 0), 1.0), doctest::Contains("overflow"),
                       incision::invalid_argument);
  CHECK(pol.snapshot() == before);
  // A reward near the double range: accepted while b stays finite, rejected once it would not.
  linucb<> big(3, 1.0, 1.0);
  bool rejected = false;
  for (int i = 0; i < 4 && !rejected; ++i) {
    const auto snap = big.snapshot();
    try {
      big.update(Eigen::Vector3d(1, 0, 0), 1e308);
    } catch (const incision::invalid_argument&) {
      rejected = true;
      CHECK(big.snapshot() == snap);
    }
    // Every accepted state restores and scores finitely.
    auto back = linucb<>::restore(big.snapshot());
    Eigen::VectorXd sc(2);
    back.scores(Eigen::MatrixXd::Identity(2, 3), sc);
    CHECK(std::isfinite(sc(0)));
    CHECK(incision::bandit::detail::all_finite(big.stats().inverse()));
    CHECK(incision::bandit::detail::all_finite(big.stats().theta()));
  }
  CHECK(rejected);
  // The same rule for the forgetting policies and the per-arm learner.
  linucb<Eigen::Dynamic, window_stats<>> win(window_stats<>(2, 1.0, 3), 1.0);
  linucb<Eigen::Dynamic, discounted_stats<>> disc(discounted_stats<>(2, 1.0, 0.9), 1.0);
  disjoint_linucb<> dis(2, 2, 1.0, 1.0);
  for (int i = 0; i < 5; ++i) {
    win.update(Eigen::Vector2d(1, i), 1.0);
    disc.update(Eigen::Vector2d(1, i), 1.0);
    dis.update(1, Eigen::Vector2d(1, i), 1.0);
  }
  const auto w0 = win.snapshot();
  const auto c0 = disc.snapshot();
  const auto d0 = dis.snapshot();
  CHECK_THROWS_AS(win.update(Eigen::Vector2d(1e155, 1e155), 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(disc.update(Eigen::Vector2d(0, 1e300), 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(dis.update(1, Eigen::Vector2d(1, 1), 1e308 * 10.0 / 10.0 * 1.7), incision::invalid_argument);
  CHECK(win.snapshot() == w0);
  CHECK(disc.snapshot() == c0);
  CHECK(dis.snapshot() == d0);
}

TEST_CASE("numerics: a failed refresh is reported, never discarded") {
  // Tier 3: refresh() returns numerical_issue and changes nothing. A = 1e-10 I + x x^T with
  // |x|^2 = 2e8 loses the prior in rounding (numerically singular); Sherman-Morrison still
  // accepts the sample because no refresh is due.
  ridge_stats<> s(2, 1e-10);
  s.add(Eigen::Vector2d(1e4, 1e4), 1.0);
  CHECK_FALSE(positive_definite(s.gram()));
  const Eigen::MatrixXd inv = s.inverse();
  const Eigen::VectorXd theta = s.theta();
  const double ld = s.log_det();
  CHECK(s.refresh() == incision::status::numerical_issue);
  CHECK(s.inverse() == inv);
  CHECK(s.theta() == theta);
  CHECK(s.log_det() == ld);
  // An update that needs a refresh which fails throws, state unchanged (was: the failure was
  // discarded and the update kept with stale A^-1 / theta). A zero context leaves A as it is.
  s.set_refresh_period(1);
  const Eigen::MatrixXd a = s.gram();
  CHECK_THROWS_WITH_AS(s.add(Eigen::Vector2d(0, 0), 0.0), doctest::Contains("positive definite"),
                       incision::invalid_argument);
  CHECK(s.gram() == a);
  CHECK(s.inverse() == inv);
  CHECK(s.n_updates() == 1);
  // A downdate that leaves A indefinite (the Sherman-Morrison fallback's refresh fails).
  ridge_stats<2> r(2, 1.0);
  r.add(Eigen::Vector2d(1, 0), 1.0);
  const Eigen::Matrix2d ra = r.gram();
  const Eigen::Matrix2d rinv = r.inverse();
  CHECK_THROWS_WITH_AS(r.remove(Eigen::Vector2d(10, 0), 0.0), doctest::Contains("positive definite"),
                       incision::invalid_argument);
  CHECK(r.gram() == ra);
  CHECK(r.inverse() == rinv);
  CHECK(r.n_updates() == 1);
  // add_statistics: the commit's refresh cannot fail silently either.
  Eigen::Matrix2d bad = -2.0 * Eigen::Matrix2d::Identity();
  bad(0, 0) = 0.0;
  CHECK_THROWS_AS(r.add_statistics(bad, Eigen::Vector2d::Zero()), incision::invalid_argument);
  CHECK(r.gram() == ra);
}

TEST_CASE("numerics: no discount factor in (0, 1] gives NaN scores or a non-positive-definite A") {
  std::mt19937_64 rng(bandit_test::base_seed() + 91);
  std::normal_distribution<double> g;
  for (const double gamma : {0.999, 0.9, 0.3, 1e-3, 1e-8, 1e-20, 1e-300, 5e-324}) {
    CAPTURE(gamma);
    constexpr std::size_t d = 7;
    discounted_stats<> proto(d, 1.0, gamma);
    linucb<Eigen::Dynamic, discounted_stats<>> pol(proto, 1.0);
    Eigen::MatrixXd X(5, static_cast<Eigen::Index>(d));
    Eigen::VectorXd sc(5);
    for (int t = 0; t < 60; ++t) {
      for (auto& v : X.reshaped()) v = g(rng);
      pol.scores(X, sc);
      REQUIRE(incision::bandit::detail::all_finite(sc));
      const auto a = pol.select(X);
      REQUIRE(sc(static_cast<Eigen::Index>(a)) == sc.maxCoeff());
      pol.update(X.row(static_cast<Eigen::Index>(a)).transpose(), g(rng));
      const auto& r = pol.stats();
      REQUIRE(positive_definite(r.gram()));
      // Every prior entry stays >= 1e-3 reg (the refill's promise).
      REQUIRE(r.prior().minCoeff() >= discounted_stats<>::min_prior_fraction * r.reg() * (1 - 1e-12));
      // theta against a direct solve of A theta = b (independent of the incremental path).
      const Eigen::VectorXd direct = r.gram().ldlt().solve(r.moment());
      REQUIRE((r.theta() - direct).norm() <= 1e-6 * (1.0 + direct.norm()));
    }
    CHECK(decltype(pol)::restore(pol.snapshot()).snapshot() == pol.snapshot());
  }
  // The usual settings keep the paper's one refill per step.
  CHECK(discounted_stats<>::refills_per_step(0.99, 7) == 1);
  CHECK(discounted_stats<>::refills_per_step(0.9, 64) == 1);
  CHECK(discounted_stats<>::refills_per_step(1.0, 7) == 1);
  CHECK(discounted_stats<>::refills_per_step(1e-8, 7) == 7);
}

TEST_CASE("numerics: a NaN score is an error, never a silent arm 0") {
  linucb<> pol(1, 1.0, 1.0);
  pol.update(Eigen::VectorXd::Constant(1, 1.0), -2e10);  // theta = -1e10
  Eigen::MatrixXd X(2, 1);
  X << 1e300, 1.0;  // x.theta = -inf, bonus = +inf: NaN
  CHECK_THROWS_WITH_AS((void)pol.select(X), doctest::Contains("NaN"), incision::invalid_argument);
  disjoint_linucb<> dis(2, 1, 1.0, 1.0);
  dis.update(0, Eigen::VectorXd::Constant(1, 1.0), -2e10);
  CHECK_THROWS_AS((void)dis.select(Eigen::VectorXd::Constant(1, 1e300)), incision::invalid_argument);
}

TEST_CASE("numerics: restore recomputes derived state, so an edited inverse or theta cannot steer") {
  std::mt19937_64 rng(bandit_test::base_seed() + 17);
  std::normal_distribution<double> g;
  constexpr std::size_t d = 4;
  linucb<> pol(d, 0.7, 1.0);
  Eigen::MatrixXd X(6, static_cast<Eigen::Index>(d));
  for (int t = 0; t < 200; ++t) {
    for (auto& v : X.reshaped()) v = g(rng);
    pol.update(X.row(static_cast<Eigen::Index>(pol.select(X))).transpose(), g(rng) + X(0, 0));
  }
  const auto orig = pol.snapshot();
  const auto kind = linucb<>::snapshot_kind;
  // Payload: tag u8, alpha f64, then ridge: d u32, reg, n, since, period, log det (5 x 8), prior,
  // b, theta (d each), A, A^-1 (d^2 each).
  const std::size_t theta_at = 1 + 8 + 4 + 40 + 16 * d;
  const std::size_t inv_at = theta_at + 8 * d + 8 * d * d;
  const std::size_t logdet_at = 1 + 8 + 4 + 32;
  REQUIRE(read_f64(orig, kind, theta_at) == doctest::Approx(pol.stats().theta()(0)));  // layout probe
  std::vector<std::vector<std::byte>> edits;
  edits.push_back(edit_f64(orig, kind, theta_at, -50.0));
  edits.push_back(edit_f64(orig, kind, inv_at, 1e6));
  edits.push_back(edit_f64(orig, kind, inv_at + 8 * (d + 1), -3.0));
  edits.push_back(edit_f64(orig, kind, logdet_at, 123.0));
  auto both = edit_f64(orig, kind, theta_at + 8, 9.0);
  both = edit_f64(both, kind, inv_at + 8 * 5, 42.0);
  edits.push_back(both);
  const auto reference = linucb<>::restore(orig);
  for (const auto& e : edits) {
    REQUIRE(e != orig);
    auto back = linucb<>::restore(e);
    CHECK(back.snapshot() == reference.snapshot());
    for (int t = 0; t < 50; ++t) {
      for (auto& v : X.reshaped()) v = g(rng);
      REQUIRE(back.select(X) == reference.select(X));
    }
  }
  // mu_linucb: the per-arm caches and the statistics' derived fields are recomputed too.
  const auto table = bandit_test::load_arm_table("vgg16_arms.csv");
  mu_linucb<> m(table.contexts, table.front);
  for (int i = 0; i < 300; ++i) m.update(m.select(i % 4 == 0), 0.2 + 0.01 * (i % 9));
  const auto msnap = m.snapshot();
  const auto mk = mu_linucb<>::snapshot_kind;
  const auto k = static_cast<std::size_t>(m.n_arms());
  const std::size_t md = m.dim();
  // tag, k, d, contexts, front, options (reg, scaling, mu, T0, delta, c_noise, c_theta, l_key,
  // l_nonkey, has_alpha, alpha, forced, cache), frame, horizon, total, last_forced, m, q, stats.
  const std::size_t m_at = 1 + 4 + 4 + 8 * k * md + 8 * k + (8 + 1 + 8 + 8 + 8 * 5 + 1 + 8 + 1 + 1) + (8 * 3 + 1);
  const std::size_t q_at = m_at + 8 * k;
  const std::size_t ridge_at = q_at + 8 * k;
  const std::size_t mtheta_at = ridge_at + 4 + 40 + 16 * md;
  REQUIRE(read_f64(msnap, mk, mtheta_at) == doctest::Approx(m.stats().theta()(0)));  // layout probe
  auto medit = edit_f64(msnap, mk, m_at, -1e3);                                      // arm 0's cached x.theta
  medit = edit_f64(medit, mk, q_at + 8, 0.0);                                        // arm 1's cached x^T A^-1 x
  medit = edit_f64(medit, mk, mtheta_at, 1e4);                                       // theta_0
  const auto mref = mu_linucb<>::restore(msnap);
  auto mback = mu_linucb<>::restore(medit);
  CHECK(mback.snapshot() == mref.snapshot());
  CHECK(mback.estimates(0.2) == mref.estimates(0.2));
}

TEST_CASE("numerics: a snapshot cannot make the reader allocate more than it holds") {
  // linucb(dim 1, window 2^23): the constructor allocates the ring it was asked for, but its
  // (small) snapshot restores with only the held samples allocated.
  using lin_win = linucb<Eigen::Dynamic, window_stats<>>;
  const std::size_t big = std::size_t{1} << 23;
  const auto snap = lin_win(window_stats<>(1, 1.0, big), 1.0).snapshot();
  CHECK(snap.size() < 200);
  const auto back = lin_win::restore(snap);
  CHECK(back.policy().window() == big);
  CHECK(back.policy().capacity() == 0);
  // A restored window grows as samples arrive and behaves exactly as a fresh one.
  lin_win fresh(window_stats<>(2, 1.0, 40), 0.5);
  for (int i = 0; i < 7; ++i) fresh.update(Eigen::Vector2d(1, i), 0.1 * i);
  auto restored = lin_win::restore(fresh.snapshot());
  CHECK(restored.policy().capacity() == 7);
  for (int i = 0; i < 100; ++i) {
    const Eigen::Vector2d x(std::sin(i), std::cos(0.3 * i));
    fresh.update(x, 0.01 * i);
    restored.update(x, 0.01 * i);
    REQUIRE(restored.policy().held() == fresh.policy().held());
    REQUIRE(restored.policy().capacity() <= 40);
  }
  CHECK(restored.snapshot() == fresh.snapshot());
}

TEST_CASE("numerics: vectors of the wrong length are rejected before any fixed-size binding") {
  linucb<3> pol(3, 1.0, 1.0);
  const auto p0 = pol.snapshot();
  const Eigen::VectorXd two = Eigen::VectorXd::Ones(2);
  CHECK_THROWS_WITH_AS(pol.update(two, 1.0), doctest::Contains("length 2"), incision::invalid_argument);
  CHECK(pol.snapshot() == p0);
  disjoint_linucb<3> dis(2, 3, 1.0, 1.0);
  CHECK_THROWS_AS(dis.update(0, two, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS((void)dis.select(two), incision::invalid_argument);
  Eigen::VectorXd out(2);
  CHECK_THROWS_AS(dis.scores(two, out), incision::invalid_argument);
  ridge_stats<3> r(3, 1.0);
  CHECK_THROWS_AS(r.add(two, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(r.remove(two, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(r.validate_sample(two, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(r.add_statistics(Eigen::MatrixXd::Identity(2, 2), two), incision::invalid_argument);
  discounted_stats<3> ds(3, 1.0, 0.9);
  CHECK_THROWS_AS(ds.observe(two, 1.0), incision::invalid_argument);
  window_stats<3> ws(3, 1.0, 4);
  CHECK_THROWS_AS(ws.observe(two, 1.0), incision::invalid_argument);
  CHECK(r.n_updates() == 0);
}

TEST_CASE("numerics: simulate_linear rejects frame counts that are negative or sum past int64") {
  const auto table = bandit_test::load_arm_table("vgg16_arms.csv");
  mu_linucb<> m(table.contexts, table.front);
  const auto before = m.snapshot();
  const Eigen::MatrixXd thetas = Eigen::MatrixXd::Constant(4, 7, 1e-9);
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> frames(4);
  frames.setConstant(std::int64_t{1} << 62);  // sums to 2^64: wrapped to 0 before the fix
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> arms(0);
  Eigen::VectorXd delays(0);
  CHECK_THROWS_WITH_AS(incision::bandit::simulate_linear(m, thetas, frames, 0.01, 1, 0.0, arms, delays),
                       doctest::Contains("sum"), incision::invalid_argument);
  frames << 3, -1, 2, 0;
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> arms4(4);
  CHECK_THROWS_WITH_AS(incision::bandit::simulate_linear(m, thetas, frames, 0.01, 1, 0.0, arms4, delays),
                       doctest::Contains("negative"), incision::invalid_argument);
  frames << 3, 1, 2, 0;
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> arms5(5);
  CHECK_THROWS_WITH_AS(incision::bandit::simulate_linear(m, thetas, frames, 0.01, 1, 0.0, arms5, delays),
                       doctest::Contains("one entry per frame"), incision::invalid_argument);
  CHECK(m.snapshot() == before);
  Eigen::Matrix<std::int64_t, Eigen::Dynamic, 1> arms6(6);
  Eigen::VectorXd delays6(6);
  const auto s = incision::bandit::simulate_linear(m, thetas, frames, 0.01, 1, 0.3, arms6, delays6);
  CHECK(s.frames == 6);
}
