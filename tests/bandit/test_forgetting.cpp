#include <incision/bandit/discounted_stats.hpp>
#include <incision/bandit/linucb.hpp>
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/window_stats.hpp>

#include "bandit/support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using incision::bandit::discounted_stats;
using incision::bandit::linucb;
using incision::bandit::mu_linucb;
using incision::bandit::mu_linucb_options;
using incision::bandit::ridge_stats;
using incision::bandit::window_stats;

namespace {

double rel_err(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) { return (a - b).norm() / b.norm(); }

template <class S>
std::vector<std::byte> bytes_of(const S& s) {
  incision::detail::byte_writer w;
  s.encode(w);
  return w.take();
}

}  // namespace

TEST_CASE("discounted_stats: equal the weighted sums recomputed from scratch") {
  std::mt19937_64 rng(bandit_test::base_seed() + 1);
  std::normal_distribution<double> g;
  for (const Eigen::Index d : {2, 7, 16}) {
    const double reg = 0.7;
    const double gamma = 0.97;
    discounted_stats<> s(static_cast<std::size_t>(d), reg, gamma);
    std::vector<Eigen::VectorXd> xs;
    std::vector<double> ys;
    for (int t = 1; t <= 1500; ++t) {
      Eigen::VectorXd x(d);
      for (auto& v : x) v = g(rng);
      xs.push_back(x);
      ys.push_back(g(rng));
      s.observe(x, ys.back());
      if (t % 250 == 0) {
        // Oracle: prior entry j was last topped up to reg at the last step s <= t with
        // (s - 1) mod d == j, and decays by gamma per step since.
        Eigen::MatrixXd a = Eigen::MatrixXd::Zero(d, d);
        Eigen::VectorXd b = Eigen::VectorXd::Zero(d);
        for (Eigen::Index j = 0; j < d; ++j) {
          int last = 0;
          for (int st = 1; st <= t; ++st)
            if ((st - 1) % d == j) last = st;
          a(j, j) = reg * std::pow(gamma, t - last);
        }
        for (int st = 1; st <= t; ++st) {
          const double w = std::pow(gamma, t - st);
          a += w * xs[static_cast<std::size_t>(st - 1)] * xs[static_cast<std::size_t>(st - 1)].transpose();
          b += w * ys[static_cast<std::size_t>(st - 1)] * xs[static_cast<std::size_t>(st - 1)];
        }
        REQUIRE(rel_err(s.ridge().gram(), a) < 1e-10);
        REQUIRE(rel_err(s.ridge().inverse(), a.ldlt().solve(Eigen::MatrixXd::Identity(d, d))) < 1e-8);
        REQUIRE(rel_err(s.ridge().theta(), a.ldlt().solve(b)) < 1e-8);
        REQUIRE(s.ridge().prior().minCoeff() >= reg * std::pow(gamma, static_cast<double>(d - 1)) * (1 - 1e-12));
        REQUIRE(s.ridge().prior().maxCoeff() <= reg * (1 + 1e-12));
      }
    }
    // gamma = 1 is plain ridge.
    discounted_stats<> one(static_cast<std::size_t>(d), reg, 1.0);
    ridge_stats<> plain(static_cast<std::size_t>(d), reg);
    for (std::size_t i = 0; i < 200; ++i) {
      one.observe(xs[i], ys[i]);
      plain.add(xs[i], ys[i]);
    }
    CHECK(rel_err(one.ridge().inverse(), plain.inverse()) < 1e-12);
  }
}

TEST_CASE("window_stats: equal a direct ridge solve over the last W samples") {
  std::mt19937_64 rng(bandit_test::base_seed() + 2);
  std::normal_distribution<double> g;
  for (const Eigen::Index d : {3, 7, 32}) {
    const std::size_t w = 40;
    window_stats<> s(static_cast<std::size_t>(d), 1.0, w);
    std::vector<Eigen::VectorXd> xs;
    std::vector<double> ys;
    for (int t = 1; t <= 3000; ++t) {
      Eigen::VectorXd x(d);
      for (auto& v : x) v = 3.0 * g(rng);
      xs.push_back(x);
      ys.push_back(g(rng));
      s.observe(x, ys.back());
      if (t % 97 == 0 || t == 3000) {
        bandit_test::direct_ridge o(d, 1.0);
        for (std::size_t i = xs.size() > w ? xs.size() - w : 0; i < xs.size(); ++i) o.add(xs[i], ys[i]);
        REQUIRE(rel_err(s.ridge().inverse(), o.inverse()) < 1e-8);
        REQUIRE(rel_err(s.ridge().theta(), o.theta()) < 1e-8);
        REQUIRE(s.held() == std::min<std::size_t>(w, static_cast<std::size_t>(t)));
        REQUIRE(s.ridge().n_updates() == s.held());
      }
    }
    // Round trip: same bytes, same future.
    incision::detail::byte_writer wr;
    s.encode(wr);
    const auto bytes = wr.take();
    incision::detail::byte_reader r(bytes, "test");
    auto back = window_stats<>::decode(r);
    CHECK(bytes_of(back) == bytes);
    for (int t = 0; t < 100; ++t) {
      Eigen::VectorXd x(d);
      for (auto& v : x) v = g(rng);
      const double y = g(rng);
      s.observe(x, y);
      back.observe(x, y);
    }
    CHECK(bytes_of(back) == bytes_of(s));
  }
  // A bad sample changes nothing.
  window_stats<> s(3, 1.0, 2);
  s.observe(Eigen::Vector3d(1, 2, 3), 1.0);
  const auto before = bytes_of(s);
  CHECK_THROWS_AS(s.observe(Eigen::Vector3d(1, std::numeric_limits<double>::quiet_NaN(), 3), 1.0),
                  incision::invalid_argument);
  CHECK_THROWS_AS(s.observe(Eigen::Vector2d(1, 2), 1.0), incision::invalid_argument);
  CHECK(bytes_of(s) == before);
  discounted_stats<> ds(3, 1.0, 0.9);
  ds.observe(Eigen::Vector3d(1, 2, 3), 1.0);
  const auto dbefore = bytes_of(ds);
  CHECK_THROWS_AS(ds.observe(Eigen::Vector3d(1, 2, 3), std::numeric_limits<double>::infinity()),
                  incision::invalid_argument);
  CHECK(bytes_of(ds) == dbefore);
}

namespace {

struct drop_result {
  long recovery = -1;       // frames after the drop until the choices settle on the new oracle
  double regret_after = 0;  // cumulative regret in the frames after the drop (seconds)
  double regret_before = 0;
};

/// muLinUCB on the VGG16 arms; the offloading delay is linear in the raw context plus noise.
/// The uplink drops from Wi-Fi (18.88 Mbit/s) to 3G (1.1 Mbit/s) at frame `change`. Recovery:
/// the first frame after which 50 consecutive non-forced choices are the new oracle cut.
template <class Learner>
drop_result bandwidth_drop(Learner m, const bandit_test::arm_table& t, int change, int frames, std::uint64_t seed) {
  auto theta_of = [](double mbit) {
    Eigen::VectorXd th(7);
    th << 2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1.0 / (mbit * 1e6);
    return th;
  };
  const Eigen::VectorXd before = theta_of(18.88);
  const Eigen::VectorXd after = theta_of(1.1);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.01);
  drop_result res;
  int streak = 0;
  for (int i = 0; i < frames; ++i) {
    const Eigen::VectorXd& th = i < change ? before : after;
    const Eigen::VectorXd total = t.front + t.contexts * th;
    Eigen::Index oracle = 0;
    total.minCoeff(&oracle);
    const std::size_t a = m.select(false);
    const double r = total(static_cast<Eigen::Index>(a)) - total(oracle);
    (i < change ? res.regret_before : res.regret_after) += r;
    if (i >= change && res.recovery < 0 && !m.last_forced()) {
      streak = (static_cast<Eigen::Index>(a) == oracle) ? streak + 1 : 0;
      if (streak == 50) res.recovery = i - change - 49;
    }
    m.update(a, t.contexts.row(static_cast<Eigen::Index>(a)).dot(th) + noise(rng));
  }
  return res;
}

}  // namespace

TEST_CASE("mu_linucb: after an abrupt bandwidth drop the forgetting variants recover, plain may not") {
  // 20,000 Wi-Fi frames, then 10,000 3G frames. All three learners use the same fixed
  // exploration scale alpha = 0.1: with the official alpha(T) (about 7 here) the forgetting
  // variants never stop exploring, since their effective sample size stays near 1/(1 - gamma)
  // or W; plain muLinUCB with the official alpha(T) is measured too.
  const auto t = bandit_test::load_arm_table("vgg16_arms.csv");
  const int change = 20000;
  const int frames = 30000;
  mu_linucb_options o;
  o.alpha = 0.1;
  long worst_discounted = 0;
  long worst_window = 0;
  for (std::uint64_t s = 0; s < 3; ++s) {
    const auto seed = bandit_test::base_seed() + 500 + s;
    const auto official = bandwidth_drop(mu_linucb<7>(t.contexts, t.front), t, change, frames, seed);
    const auto plain = bandwidth_drop(mu_linucb<7>(t.contexts, t.front, o), t, change, frames, seed);
    const auto disc =
        bandwidth_drop(mu_linucb<7, discounted_stats<7>>(t.contexts, t.front, discounted_stats<7>(7, o.reg, 0.995), o),
                       t, change, frames, seed);
    const auto win = bandwidth_drop(
        mu_linucb<7, window_stats<7>>(t.contexts, t.front, window_stats<7>(7, o.reg, 300), o), t, change, frames, seed);
    MESSAGE("seed ", s, ": frames to recover after the drop: plain(official alpha) ", official.recovery, ", plain ",
            plain.recovery, ", discounted(0.995) ", disc.recovery, ", window(300) ", win.recovery, " (-1 = not within ",
            frames - change, "); regret after the drop (s): plain(official alpha) ", official.regret_after, ", plain ",
            plain.regret_after, ", discounted ", disc.regret_after, ", window ", win.regret_after);
    CHECK(disc.recovery >= 0);
    CHECK(win.recovery >= 0);
    worst_discounted = std::max(worst_discounted, disc.recovery);
    worst_window = std::max(worst_window, win.recovery);
    CHECK(disc.regret_after < 0.25 * plain.regret_after);
    CHECK(win.regret_after < 0.25 * plain.regret_after);
    CHECK((plain.recovery < 0 || plain.recovery > 4 * std::max(disc.recovery, win.recovery)));
  }
  CHECK(worst_discounted <= 200);
  CHECK(worst_window <= 200);
}

TEST_CASE("mu_linucb: per-arm caches stay exact under discounting and sliding windows") {
  const auto t = bandit_test::load_arm_table("vgg16_arms.csv");
  Eigen::VectorXd theta(7);
  theta << 2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1.0 / 5.85e6;
  mu_linucb_options cached;
  cached.alpha = 0.3;
  mu_linucb_options direct = cached;
  direct.arm_cache = false;
  mu_linucb<7, discounted_stats<7>> dc(t.contexts, t.front, discounted_stats<7>(7, 1.0, 0.97), cached);
  mu_linucb<7, discounted_stats<7>> dd(t.contexts, t.front, discounted_stats<7>(7, 1.0, 0.97), direct);
  mu_linucb<7, window_stats<7>> wc(t.contexts, t.front, window_stats<7>(7, 1.0, 60), cached);
  mu_linucb<7, window_stats<7>> wd(t.contexts, t.front, window_stats<7>(7, 1.0, 60), direct);
  std::mt19937_64 rng(bandit_test::base_seed() + 77);
  std::normal_distribution<double> noise(0.0, 0.05);
  std::bernoulli_distribution key(0.3);
  for (int i = 0; i < 6000; ++i) {
    const bool k = key(rng);
    const auto a = dc.select(k);
    REQUIRE(dd.select(k) == a);
    const auto b = wc.select(k);
    REQUIRE(wd.select(k) == b);
    const double ya = t.contexts.row(static_cast<Eigen::Index>(a)).dot(theta) + noise(rng);
    const double yb = t.contexts.row(static_cast<Eigen::Index>(b)).dot(theta) + noise(rng);
    dc.update(a, ya);
    dd.update(a, ya);
    wc.update(b, yb);
    wd.update(b, yb);
  }
  CHECK((dc.estimates(0.2) - dd.estimates(0.2)).cwiseAbs().maxCoeff() < 1e-8);
  CHECK((wc.estimates(0.2) - wd.estimates(0.2)).cwiseAbs().maxCoeff() < 1e-8);
}
