#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/disjoint_linucb.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/window_stats.hpp>

#include "bandit/support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <vector>

using bandit_test::direct_ridge;
using incision::bandit::discounted_stats;
using incision::bandit::disjoint_linucb;
using incision::bandit::linucb;
using incision::bandit::ridge_stats;
using incision::bandit::window_stats;

namespace {

/// Direct UCB choice from an LDLT solve of the accumulated A, b (no incremental state).
std::size_t direct_choice(const direct_ridge& o, const Eigen::MatrixXd& X, double alpha) {
  const Eigen::LDLT<Eigen::MatrixXd> l(o.a);
  const Eigen::VectorXd theta = l.solve(o.b);
  std::size_t best = 0;
  double best_score = -std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < X.rows(); ++k) {
    const Eigen::VectorXd x = X.row(k).transpose();
    const double sc = x.dot(theta) + alpha * std::sqrt(x.dot(l.solve(x)));
    if (sc > best_score) {
      best_score = sc;
      best = static_cast<std::size_t>(k);
    }
  }
  return best;
}

template <int Dim>
void shared_vs_direct(Eigen::Index d, Eigen::Index k, int steps, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g;
  const double alpha = 0.5 + static_cast<double>(seed % 4) * 0.5;
  linucb<Dim> pol(static_cast<std::size_t>(d), alpha, 1.0);
  direct_ridge o(d, 1.0);
  Eigen::VectorXd theta(d);
  for (auto& v : theta) v = g(rng) / std::sqrt(static_cast<double>(d));
  using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  row_matrix X(k, d);
  for (int t = 0; t < steps; ++t) {
    for (auto& v : X.reshaped()) v = g(rng);
    const std::size_t a = pol.select(X);
    REQUIRE(a == direct_choice(o, X, alpha));
    const Eigen::VectorXd x = X.row(static_cast<Eigen::Index>(a)).transpose();
    const double r = x.dot(theta) + 0.1 * g(rng);
    pol.update(x, r);
    o.add(x, r);
  }
}

}  // namespace

TEST_CASE("linucb: choices identical to a direct ridge solve (d = 2..64, several seeds)") {
  const auto seed = bandit_test::base_seed();
  for (std::uint64_t s = 0; s < 3; ++s) {
    shared_vs_direct<Eigen::Dynamic>(2, 5, 3000, seed + s);
    shared_vs_direct<7>(7, 23, 2000, seed + 10 + s);
    shared_vs_direct<16>(16, 10, 2000, seed + 20 + s);
  }
  shared_vs_direct<Eigen::Dynamic>(32, 8, 1000, seed + 30);
  shared_vs_direct<Eigen::Dynamic>(64, 4, 600, seed + 40);
}

TEST_CASE("disjoint_linucb: choices identical to per-arm direct ridge solves") {
  const auto seed = bandit_test::base_seed();
  for (const Eigen::Index d : {2, 5, 16, 64}) {
    std::mt19937_64 rng(seed + static_cast<std::uint64_t>(d));
    std::normal_distribution<double> g;
    const std::size_t k = 6;
    const double alpha = 1.0;
    disjoint_linucb<> pol(k, static_cast<std::size_t>(d), alpha, 1.0);
    std::vector<direct_ridge> o(k, direct_ridge(d, 1.0));
    Eigen::MatrixXd thetas(d, static_cast<Eigen::Index>(k));
    for (auto& v : thetas.reshaped()) v = g(rng) / std::sqrt(static_cast<double>(d));
    const int steps = d == 64 ? 500 : 2000;
    for (int t = 0; t < steps; ++t) {
      Eigen::VectorXd x(d);
      for (auto& v : x) v = g(rng);
      std::size_t best = 0;
      double best_score = -std::numeric_limits<double>::infinity();
      for (std::size_t a = 0; a < k; ++a) {
        const Eigen::LDLT<Eigen::MatrixXd> l(o[a].a);
        const double sc = x.dot(l.solve(o[a].b)) + alpha * std::sqrt(x.dot(l.solve(x)));
        if (sc > best_score) {
          best_score = sc;
          best = a;
        }
      }
      const std::size_t a = pol.select(x);
      REQUIRE(a == best);
      const double r = x.dot(thetas.col(static_cast<Eigen::Index>(a))) + 0.1 * g(rng);
      pol.update(a, x, r);
      o[a].add(x, r);
    }
  }
}

TEST_CASE("linucb: ties go to the lowest index") {
  linucb<> pol(3, 1.0, 1.0);
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(4, 3);
  X.row(1) << 1, 0, 0;
  X.row(2) << 1, 0, 0;
  CHECK(pol.select(X) == 1);
  CHECK(pol.select(Eigen::MatrixXd::Ones(3, 3)) == 0);
  disjoint_linucb<> dis(4, 3, 1.0, 1.0);
  CHECK(dis.select(Eigen::Vector3d(1, 2, 3)) == 0);
}

TEST_CASE("linucb: regret grows sublinearly on a stationary linear environment") {
  const int horizon = bandit_test::under_sanitizer() ? 4000 : 16000;
  const Eigen::Index d = 8;
  const Eigen::Index k = 10;
  double r_quarter = 0.0;
  double r_full = 0.0;
  for (std::uint64_t s = 0; s < 4; ++s) {
    std::mt19937_64 rng(bandit_test::base_seed() + 100 + s);
    std::normal_distribution<double> g;
    Eigen::VectorXd theta(d);
    for (auto& v : theta) v = g(rng);
    theta /= theta.norm();
    linucb<> pol(static_cast<std::size_t>(d), 0.5, 1.0);
    Eigen::MatrixXd X(k, d);
    double regret = 0.0;
    for (int t = 0; t < horizon; ++t) {
      for (auto& v : X.reshaped()) v = g(rng);
      X.rowwise().normalize();
      const Eigen::VectorXd mean = X * theta;
      const std::size_t a = pol.select(X);
      regret += mean.maxCoeff() - mean(static_cast<Eigen::Index>(a));
      pol.update(X.row(static_cast<Eigen::Index>(a)).transpose(), mean(static_cast<Eigen::Index>(a)) + 0.1 * g(rng));
      if (t + 1 == horizon / 4) r_quarter += regret;
    }
    r_full += regret;
  }
  MESSAGE("LinUCB regret at T/4 and T (sum over 4 seeds): ", r_quarter, " / ", r_full, " (ratio ", r_full / r_quarter,
          "; linear growth would be 4, sqrt(T) growth 2)");
  CHECK(r_full / r_quarter < 3.0);
  CHECK(r_full / (4.0 * horizon) < 0.05);
}

TEST_CASE("linucb: bad input throws and leaves the learner unchanged") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(linucb<>(0, 1.0, 1.0), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(linucb<>(3, -1.0, 1.0), doctest::Contains("alpha"), incision::invalid_argument);
  CHECK_THROWS_AS(linucb<>(3, nan, 1.0), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(linucb<>(3, 1.0, 0.0), doctest::Contains("reg"), incision::invalid_argument);
  CHECK_THROWS_AS(disjoint_linucb<>(0, 3, 1.0, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(disjoint_linucb<>(2, 3, -0.1, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(disjoint_linucb<>(2, 3, 1.0, -1.0), incision::invalid_argument);
  CHECK_THROWS_AS((linucb<3, discounted_stats<3>>(discounted_stats<3>(3, 1.0, 0.0), 1.0)), incision::invalid_argument);
  CHECK_THROWS_AS((discounted_stats<>(3, 1.0, 1.0001)), incision::invalid_argument);
  CHECK_THROWS_AS((window_stats<>(3, 1.0, 0)), incision::invalid_argument);

  linucb<> pol(3, 1.0, 1.0);
  pol.update(Eigen::Vector3d(1, 2, 3), 0.5);
  disjoint_linucb<> dis(4, 3, 1.0, 1.0);
  dis.update(2, Eigen::Vector3d(1, 2, 3), 0.5);
  const auto p0 = pol.snapshot();
  const auto d0 = dis.snapshot();
  CHECK_THROWS_WITH_AS((void)pol.select(Eigen::MatrixXd::Ones(4, 2)), doctest::Contains("shape"),
                       incision::invalid_argument);
  CHECK_THROWS_AS((void)pol.select(Eigen::MatrixXd::Ones(0, 3)), incision::invalid_argument);
  Eigen::MatrixXd bad = Eigen::MatrixXd::Ones(2, 3);
  bad(1, 1) = nan;
  CHECK_THROWS_AS((void)pol.select(bad), incision::invalid_argument);
  CHECK_THROWS_AS(pol.update(Eigen::Vector2d(1, 2), 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(pol.update(Eigen::Vector3d(1, 2, 3), nan), incision::invalid_argument);
  CHECK_THROWS_AS(pol.update(Eigen::Vector3d(1, nan, 3), 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(pol.set_alpha(-1.0), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(dis.update(4, Eigen::Vector3d(1, 2, 3), 1.0), doctest::Contains("out of range"),
                       incision::out_of_range);
  CHECK_THROWS_AS(dis.update(0, Eigen::Vector3d(1, 2, 3), std::numeric_limits<double>::infinity()),
                  incision::invalid_argument);
  CHECK_THROWS_AS((void)dis.select(Eigen::Vector2d(1, 2)), incision::invalid_argument);
  CHECK_THROWS_AS(dis.merge(disjoint_linucb<>(3, 3, 1.0, 1.0)), incision::invalid_argument);
  CHECK(pol.snapshot() == p0);
  CHECK(dis.snapshot() == d0);
}

TEST_CASE("linucb: snapshots round-trip bit-exactly, files too, and corruption is rejected") {
  std::mt19937_64 rng(bandit_test::base_seed() + 77);
  std::normal_distribution<double> g;
  linucb<5, window_stats<5>> pol(window_stats<5>(5, 1.0, 50), 0.8);
  disjoint_linucb<5, discounted_stats<5>> dis(3, discounted_stats<5>(5, 1.0, 0.98), 0.8);
  Eigen::MatrixXd X(4, 5);
  for (int t = 0; t < 300; ++t) {
    for (auto& v : X.reshaped()) v = g(rng);
    const auto a = pol.select(X);
    pol.update(X.row(static_cast<Eigen::Index>(a)).transpose(), g(rng));
    const Eigen::VectorXd x = X.row(0).transpose();
    dis.update(dis.select(x), x, g(rng));
  }
  const auto pb = pol.snapshot();
  const auto db = dis.snapshot();
  auto pol2 = decltype(pol)::restore(pb);
  auto dis2 = decltype(dis)::restore(db);
  CHECK(pol2.snapshot() == pb);
  CHECK(dis2.snapshot() == db);
  for (int t = 0; t < 500; ++t) {
    for (auto& v : X.reshaped()) v = g(rng);
    const auto a = pol.select(X);
    REQUIRE(pol2.select(X) == a);
    const double r = g(rng);
    pol.update(X.row(static_cast<Eigen::Index>(a)).transpose(), r);
    pol2.update(X.row(static_cast<Eigen::Index>(a)).transpose(), r);
    const Eigen::VectorXd x = X.row(1).transpose();
    const auto b = dis.select(x);
    REQUIRE(dis2.select(x) == b);
    dis.update(b, x, r);
    dis2.update(b, x, r);
  }
  CHECK(pol2.snapshot() == pol.snapshot());
  CHECK(dis2.snapshot() == dis.snapshot());
  const auto path = std::filesystem::temp_directory_path() / "incision_test_linucb.snap";
  dis.save(path);
  CHECK(decltype(dis)::load(path).snapshot() == dis.snapshot());
  std::filesystem::remove(path);
  CHECK_THROWS_AS(decltype(dis)::load(path), incision::io_error);
  // Wrong learner kind or policy.
  CHECK_THROWS_AS(decltype(dis)::restore(pb), incision::parse_error);
  CHECK_THROWS_AS((linucb<5>::restore(pb)), incision::parse_error);
  const auto cur = pol.snapshot();
  for (std::size_t n = 0; n < cur.size(); ++n)
    REQUIRE_THROWS_AS(decltype(pol)::restore(std::span<const std::byte>(cur).first(n)), incision::parse_error);
  auto flipped = cur;
  for (std::size_t i = 0; i < cur.size(); i += 3) {
    flipped[i] ^= std::byte{0x10};
    REQUIRE_THROWS_AS(decltype(pol)::restore(flipped), incision::parse_error);
    flipped[i] = cur[i];
  }
}

TEST_CASE("linucb: merge equals learning from both streams") {
  std::mt19937_64 rng(bandit_test::base_seed() + 5);
  std::normal_distribution<double> g;
  linucb<> a(4, 1.0, 1.0);
  linucb<> b(4, 1.0, 1.0);
  linucb<> both(4, 1.0, 1.0);
  for (int t = 0; t < 400; ++t) {
    Eigen::VectorXd x(4);
    for (auto& v : x) v = g(rng);
    const double r = g(rng);
    (t % 3 == 0 ? a : b).update(x, r);
    both.update(x, r);
  }
  a.merge(b);
  CHECK((a.stats().theta() - both.stats().theta()).norm() < 1e-10);
  CHECK((a.stats().inverse() - both.stats().inverse()).norm() < 1e-10);
  CHECK(a.stats().n_updates() == 400);
}
