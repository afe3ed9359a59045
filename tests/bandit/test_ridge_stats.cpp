#include <incision/bandit/ridge_stats.hpp>

#include "bandit/support.hpp"

#include <doctest/doctest.h>
#include <Eigen/LU>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using bandit_test::direct_ridge;
using incision::bandit::ridge_stats;

namespace {

template <int Dim>
std::vector<std::byte> bytes_of(const ridge_stats<Dim>& s) {
  incision::detail::byte_writer w;
  s.encode(w);
  return w.take();
}

double rel_err(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return (a - b).norm() / std::max(1e-300, b.norm());
}

template <int Dim>
void check_against_direct(std::size_t d, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::uniform_real_distribution<double> wdist(0.2, 3.0);
  const double reg = 0.5 + static_cast<double>(seed % 3);
  ridge_stats<Dim> s(d, reg);
  s.set_refresh_period(0);  // pure Sherman-Morrison: the oracle must match without refreshes
  direct_ridge o(static_cast<Eigen::Index>(d), reg);
  Eigen::VectorXd theta_true(static_cast<Eigen::Index>(d));
  for (auto& t : theta_true) t = g(rng);
  for (std::size_t t = 0; t < n; ++t) {
    Eigen::VectorXd x(static_cast<Eigen::Index>(d));
    for (auto& v : x) v = g(rng);
    const double y = x.dot(theta_true) + 0.1 * g(rng);
    const double w = (t % 5 == 0) ? wdist(rng) : 1.0;
    s.add(x, y, w);
    o.add(x, y, w);
    if (t % 97 == 0 || t + 1 == n) {
      REQUIRE(rel_err(s.inverse(), o.inverse()) < 1e-9);
      REQUIRE(rel_err(s.theta(), o.theta()) < 1e-9);
      REQUIRE(std::abs(s.log_det() - o.log_det()) < 1e-8 * std::max(1.0, std::abs(o.log_det())));
      REQUIRE(rel_err(s.gram(), o.a) < 1e-14);
    }
  }
  CHECK(s.n_updates() == n);
}

}  // namespace

TEST_CASE("ridge_stats: Sherman-Morrison matches a direct LDLT solve, d from 2 to 64") {
  const auto seed = bandit_test::base_seed();
  for (std::uint64_t k = 0; k < 3; ++k) {
    check_against_direct<Eigen::Dynamic>(2, 3000, seed + k);
    check_against_direct<Eigen::Dynamic>(5, 3000, seed + 10 + k);
    check_against_direct<7>(7, 3000, seed + 20 + k);
    check_against_direct<16>(16, 2000, seed + 30 + k);
    check_against_direct<Eigen::Dynamic>(33, 1000, seed + 40 + k);
  }
  check_against_direct<Eigen::Dynamic>(64, 1000, seed + 50);
}

TEST_CASE("ridge_stats: fixed and dynamic dimensions agree") {
  std::mt19937_64 rng(bandit_test::base_seed());
  std::normal_distribution<double> g;
  ridge_stats<7> f(7, 1.0);
  ridge_stats<> dyn(7, 1.0);
  for (int t = 0; t < 5000; ++t) {
    Eigen::Matrix<double, 7, 1> x;
    for (auto& v : x) v = g(rng);
    const double y = g(rng);
    f.add(x, y);
    dyn.add(Eigen::VectorXd(x), y);
  }
  CHECK(rel_err(f.inverse(), dyn.inverse()) < 1e-12);
  CHECK(rel_err(f.theta(), dyn.theta()) < 1e-12);
}

TEST_CASE("ridge_stats: construction errors") {
  CHECK_THROWS_AS(ridge_stats<>(0, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(ridge_stats<>(3, 0.0), incision::invalid_argument);
  CHECK_THROWS_AS(ridge_stats<>(3, -1.0), incision::invalid_argument);
  CHECK_THROWS_AS(ridge_stats<>(3, std::numeric_limits<double>::quiet_NaN()), incision::invalid_argument);
  CHECK_THROWS_AS(ridge_stats<7>(6, 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(ridge_stats<>(Eigen::Vector3d(1.0, 0.0, 2.0)), incision::invalid_argument);
  const ridge_stats<> p(Eigen::Vector3d(1.0, 4.0, 2.0));
  CHECK(p.inverse()(1, 1) == doctest::Approx(0.25));
  CHECK(p.log_det() == doctest::Approx(std::log(8.0)));
  CHECK(p.reg() == doctest::Approx(7.0 / 3.0));
}

TEST_CASE("ridge_stats: bad samples throw and leave the statistics unchanged") {
  ridge_stats<> s(3, 1.0);
  s.add(Eigen::Vector3d(1.0, 2.0, 3.0), 0.5);
  const auto before = bytes_of(s);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(s.add(Eigen::Vector2d(1.0, 2.0), 1.0), doctest::Contains("length 2"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(s.add(Eigen::Vector3d(1.0, nan, 3.0), 1.0), incision::invalid_argument);
  CHECK_THROWS_AS(s.add(Eigen::Vector3d(1.0, inf, 3.0), 1.0), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(s.add(Eigen::Vector3d(1.0, 2.0, 3.0), nan), doctest::Contains("NaN"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(s.add(Eigen::Vector3d(1.0, 2.0, 3.0), inf), incision::invalid_argument);
  CHECK_THROWS_AS(s.add(Eigen::Vector3d(1.0, 2.0, 3.0), 1.0, 0.0), incision::invalid_argument);
  CHECK_THROWS_AS(s.add(Eigen::Vector3d(1.0, 2.0, 3.0), 1.0, -1.0), incision::invalid_argument);
  CHECK_THROWS_AS(s.scale(0.0), incision::invalid_argument);
  CHECK_THROWS_AS(s.scale(1.5), incision::invalid_argument);
  CHECK_THROWS_AS(s.add_prior(3, 1.0), incision::out_of_range);
  CHECK_THROWS_AS(s.add_prior(0, -1.0), incision::invalid_argument);
  Eigen::Matrix3d asym = Eigen::Matrix3d::Zero();
  asym(0, 1) = 1.0;
  CHECK_THROWS_WITH_AS(s.add_statistics(asym, Eigen::Vector3d::Zero()), doctest::Contains("symmetric"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(s.add_statistics(-100.0 * Eigen::Matrix3d::Identity(), Eigen::Vector3d::Zero()),
                  incision::invalid_argument);
  Eigen::Matrix3d bad = Eigen::Matrix3d::Identity();
  bad(2, 2) = nan;
  CHECK_THROWS_AS(s.add_statistics(bad, Eigen::Vector3d::Zero()), incision::invalid_argument);
  CHECK_THROWS_AS(s.add_statistics(Eigen::Matrix3d::Identity(), Eigen::Vector3d(nan, 0, 0)),
                  incision::invalid_argument);
  ridge_stats<> other(2, 1.0);
  CHECK_THROWS_AS(s.merge(other), incision::invalid_argument);
  CHECK_THROWS_AS(s.set_ridge(other), incision::invalid_argument);
  CHECK(bytes_of(s) == before);
}

TEST_CASE("ridge_stats: remove undoes add; scale and add_prior match the direct formula") {
  std::mt19937_64 rng(bandit_test::base_seed() + 7);
  std::normal_distribution<double> g;
  const Eigen::Index d = 6;
  ridge_stats<> s(6, 2.0);
  s.set_refresh_period(0);
  std::vector<Eigen::VectorXd> xs;
  std::vector<double> ys;
  for (int t = 0; t < 200; ++t) {
    Eigen::VectorXd x(d);
    for (auto& v : x) v = g(rng);
    xs.push_back(x);
    ys.push_back(g(rng));
    s.add(x, ys.back());
  }
  // Remove the first half, compare with a direct solve over the second half.
  for (int t = 0; t < 100; ++t) s.remove(xs[static_cast<std::size_t>(t)], ys[static_cast<std::size_t>(t)]);
  direct_ridge o(d, 2.0);
  for (std::size_t t = 100; t < 200; ++t) o.add(xs[t], ys[t]);
  CHECK(rel_err(s.inverse(), o.inverse()) < 1e-9);
  CHECK(rel_err(s.theta(), o.theta()) < 1e-9);
  CHECK(s.log_det() == doctest::Approx(o.log_det()).epsilon(1e-9));
  CHECK(s.n_updates() == 100);
  // Discount then refill one prior coordinate.
  s.scale(0.9);
  s.add_prior(2, 0.3);
  Eigen::MatrixXd a = 0.9 * o.a;
  a(2, 2) += 0.3;
  const Eigen::VectorXd b = 0.9 * o.b;
  CHECK(rel_err(s.gram(), a) < 1e-14);
  CHECK(rel_err(s.inverse(), a.inverse()) < 1e-9);
  CHECK(rel_err(s.theta(), a.ldlt().solve(b)) < 1e-9);
  CHECK(s.log_det() == doctest::Approx(std::log(a.determinant())).epsilon(1e-9));
  CHECK(s.prior()(2) == doctest::Approx(0.9 * 2.0 + 0.3));
  CHECK(rel_err(s.data_gram(), 0.9 * (o.a - 2.0 * Eigen::MatrixXd::Identity(d, d))) < 1e-12);
}

TEST_CASE("ridge_stats: merge and add_statistics equal the statistics of the union stream") {
  std::mt19937_64 rng(bandit_test::base_seed() + 11);
  std::normal_distribution<double> g;
  ridge_stats<> a(4, 1.0);
  ridge_stats<> b(4, 3.0);
  direct_ridge o(4, 1.0);
  for (int t = 0; t < 300; ++t) {
    Eigen::VectorXd x(4);
    for (auto& v : x) v = g(rng);
    const double y = g(rng);
    (t % 2 == 0 ? a : b).add(x, y);
    o.add(x, y);
  }
  ridge_stats<> m = a;
  m.merge(b);
  CHECK(m.n_updates() == 300);
  CHECK(rel_err(m.gram(), o.a) < 1e-12);
  CHECK(rel_err(m.inverse(), o.inverse()) < 1e-10);
  CHECK(rel_err(m.theta(), o.theta()) < 1e-10);
  CHECK(m.log_det() == doctest::Approx(o.log_det()).epsilon(1e-10));
  CHECK(m.journal_reset());
}

TEST_CASE("ridge_stats: the change journal patches per-arm caches exactly") {
  std::mt19937_64 rng(bandit_test::base_seed() + 5);
  std::normal_distribution<double> g;
  ridge_stats<> s(5, 1.0);
  s.set_refresh_period(0);
  Eigen::MatrixXd arms(5, 9);
  for (auto& v : arms.reshaped()) v = g(rng);
  Eigen::VectorXd q = (arms.transpose() * s.inverse() * arms).diagonal();
  Eigen::VectorXd m = arms.transpose() * s.theta();
  s.clear_journal();
  for (int t = 0; t < 500; ++t) {
    Eigen::VectorXd x = arms.col(t % 9);
    if (t % 3 == 0) s.scale(0.97);
    s.add(x, g(rng));
    if (t % 4 == 0) s.add_prior(static_cast<std::size_t>(t % 5), 0.05);
    REQUIRE_FALSE(s.journal_reset());
    for (std::size_t i = 0; i < s.journal_size(); ++i) {
      const auto& c = s.journal_entry(i);
      if (c.kind == incision::bandit::detail::stats_change::scale) {
        q /= c.factor;
      } else {
        const Eigen::VectorXd sv = arms.transpose() * s.journal_direction(i);
        q.array() -= c.gain * sv.array().square();
        m += c.step * sv;
      }
    }
    s.clear_journal();
  }
  CHECK(rel_err(q, (arms.transpose() * s.inverse() * arms).diagonal()) < 1e-10);
  CHECK(rel_err(m, arms.transpose() * s.theta()) < 1e-10);
  s.refresh();
  CHECK(s.journal_reset());
}

TEST_CASE("ridge_stats: encode/decode is bit-exact and rejects bad data") {
  std::mt19937_64 rng(bandit_test::base_seed() + 3);
  std::normal_distribution<double> g;
  ridge_stats<7> s(7, 1.5);
  for (int t = 0; t < 777; ++t) {
    Eigen::Matrix<double, 7, 1> x;
    for (auto& v : x) v = g(rng);
    s.add(x, g(rng));
  }
  const auto bytes = bytes_of(s);
  incision::detail::byte_reader r(bytes, "test");
  auto back = ridge_stats<7>::decode(r);
  r.expect_end();
  CHECK(bytes_of(back) == bytes);
  // Same future: identical bits after more updates.
  for (int t = 0; t < 500; ++t) {
    Eigen::Matrix<double, 7, 1> x;
    for (auto& v : x) v = g(rng);
    const double y = g(rng);
    s.add(x, y);
    back.add(x, y);
  }
  CHECK(bytes_of(back) == bytes_of(s));
  // Decoding into the wrong fixed dimension, or truncated, fails.
  {
    incision::detail::byte_reader r2(bytes, "test");
    CHECK_THROWS_AS(ridge_stats<6>::decode(r2), incision::parse_error);
  }
  for (std::size_t n = 0; n < bytes.size(); n += 13) {
    incision::detail::byte_reader r3(std::span<const std::byte>(bytes).first(n), "test");
    CHECK_THROWS_AS(ridge_stats<>::decode(r3), incision::parse_error);
  }
  // A NaN in A is rejected.
  auto bad = bytes;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::memcpy(bad.data() + 4 + 5 * 8 + 3 * 7 * 8, &nan, 8);
  incision::detail::byte_reader r4(bad, "test");
  CHECK_THROWS_AS(ridge_stats<>::decode(r4), incision::parse_error);
}

TEST_CASE("ridge_stats: 10^7 updates keep A^-1 consistent with a fresh inverse") {
  // 10^7 in optimised builds (about a second); 10^6 under sanitizers.
  const std::size_t n = bandit_test::under_sanitizer() ? 1'000'000 : 10'000'000;
  std::mt19937_64 rng(bandit_test::base_seed() + 99);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  ridge_stats<7> s(7, 1.0);
  Eigen::Matrix<double, 7, 1> x;
  Eigen::Matrix<double, 7, 1> theta_true;
  for (auto& v : theta_true) v = u(rng);
  for (std::size_t t = 0; t < n; ++t) {
    for (auto& v : x) v = u(rng);
    s.add(x, x.dot(theta_true) + 0.01 * u(rng));
  }
  const Eigen::MatrixXd a = s.gram();
  const Eigen::MatrixXd fresh = a.ldlt().solve(Eigen::MatrixXd::Identity(7, 7));
  MESSAGE("relative error of A^-1 after ", n, " updates: ", rel_err(s.inverse(), fresh));
  CHECK(rel_err(s.inverse(), fresh) < 1e-9);
  CHECK(rel_err(s.theta(), a.ldlt().solve(Eigen::VectorXd(s.moment()))) < 1e-9);
  CHECK(rel_err(s.theta(), theta_true) < 1e-3);
  CHECK(s.n_updates() == n);
}
