// incision::bandit benchmarks: muLinUCB per frame on the ANS VGG16 arms, LinUCB select/update
// over K and d, ridge statistics updates, and the per-arm cache vs direct computation.
#include <incision/bandit.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ib = incision::bandit;

namespace {

struct arm_table {
  Eigen::MatrixXd contexts;
  Eigen::VectorXd front;
};

arm_table load_vgg16() {
  std::ifstream in(std::string(INCISION_DATA_DIR) + "/ans/vgg16_arms.csv");
  if (!in) throw std::runtime_error("cannot open vgg16_arms.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<double> row;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  arm_table t;
  const auto k = static_cast<Eigen::Index>(rows.size());
  t.contexts.resize(k, 7);
  t.front.resize(k);
  for (Eigen::Index a = 0; a < k; ++a) {
    for (Eigen::Index j = 0; j < 7; ++j)
      t.contexts(a, j) = rows[static_cast<std::size_t>(a)][static_cast<std::size_t>(j + 1)];
    t.front(a) = rows[static_cast<std::size_t>(a)][8];
  }
  return t;
}

/// Offloading delays per arm under a linear model (4G uplink) plus noise, precomputed.
Eigen::MatrixXd delay_table(const arm_table& t, int n) {
  Eigen::VectorXd theta(7);
  theta << 2e-3, 1e-3, 2e-4, 2e-12, 4e-12, 1e-11, 1.0 / 5.85e6;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> g(0.0, 0.01);
  Eigen::MatrixXd d(n, t.contexts.rows());
  for (int i = 0; i < n; ++i)
    for (Eigen::Index k = 0; k < t.contexts.rows(); ++k) d(i, k) = t.contexts.row(k).dot(theta) + g(rng);
  return d;
}

template <class Learner>
void run_frames(benchmark::State& state, Learner& m, const Eigen::MatrixXd& delays) {
  const auto n = delays.rows();
  Eigen::Index i = 0;
  for (auto _ : state) {
    const std::size_t a = m.select((i & 7) == 0);
    m.update(a, delays(i, static_cast<Eigen::Index>(a)));
    benchmark::DoNotOptimize(a);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// select + update per frame, VGG16 arms (K = 23, d = 7).
template <int Dim, bool Cache>
void BM_mu_linucb_vgg16_frame(benchmark::State& state) {
  const auto t = load_vgg16();
  const auto delays = delay_table(t, 4096);
  ib::mu_linucb_options o;
  o.arm_cache = Cache;
  ib::mu_linucb<Dim> m(t.contexts, t.front, o);
  run_frames(state, m, delays);
}
BENCHMARK(BM_mu_linucb_vgg16_frame<7, true>)->Name("mu_linucb/vgg16/frame/fixed7/cache");
BENCHMARK(BM_mu_linucb_vgg16_frame<7, false>)->Name("mu_linucb/vgg16/frame/fixed7/direct");
BENCHMARK(BM_mu_linucb_vgg16_frame<Eigen::Dynamic, true>)->Name("mu_linucb/vgg16/frame/dynamic/cache");
BENCHMARK(BM_mu_linucb_vgg16_frame<Eigen::Dynamic, false>)->Name("mu_linucb/vgg16/frame/dynamic/direct");

template <class Stats>
void BM_mu_linucb_vgg16_forgetting(benchmark::State& state, Stats stats) {
  const auto t = load_vgg16();
  const auto delays = delay_table(t, 4096);
  ib::mu_linucb<7, Stats> m(t.contexts, t.front, std::move(stats), ib::mu_linucb_options{});
  run_frames(state, m, delays);
}
BENCHMARK_CAPTURE(BM_mu_linucb_vgg16_forgetting, discounted, ib::discounted_stats<7>(7, 1.0, 0.995))
    ->Name("mu_linucb/vgg16/frame/fixed7/discounted0.995");
BENCHMARK_CAPTURE(BM_mu_linucb_vgg16_forgetting, window, ib::window_stats<7>(7, 1.0, 300))
    ->Name("mu_linucb/vgg16/frame/fixed7/window300");

// Per-arm cache vs direct as K grows (synthetic static contexts, d = 16).
template <bool Cache>
void BM_mu_linucb_arms(benchmark::State& state) {
  const auto k = static_cast<Eigen::Index>(state.range(0));
  const Eigen::Index d = 16;
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd ctx(k, d);
  for (auto& v : ctx.reshaped()) v = u(rng);
  ctx.row(k - 1).setZero();
  Eigen::VectorXd front(k);
  for (auto& v : front) v = u(rng);
  front(k - 1) = 100.0;  // the on-device arm never wins: every frame is select + update
  Eigen::VectorXd theta(d);
  for (auto& v : theta) v = 0.1 * u(rng);
  Eigen::MatrixXd delays(1024, k);
  for (Eigen::Index i = 0; i < 1024; ++i) delays.row(i) = (ctx * theta).transpose();
  ib::mu_linucb_options o;
  o.arm_cache = Cache;
  ib::mu_linucb<16> m(ctx, front, o);
  run_frames(state, m, delays);
  state.SetComplexityN(state.range(0));
}
BENCHMARK(BM_mu_linucb_arms<true>)->Name("mu_linucb/arms/d16/cache")->RangeMultiplier(4)->Range(4, 1024)->Complexity();
BENCHMARK(BM_mu_linucb_arms<false>)
    ->Name("mu_linucb/arms/d16/direct")
    ->RangeMultiplier(4)
    ->Range(4, 1024)
    ->Complexity();

// LinUCB (shared parameter): select over K rows and update, dynamic d; fixed-size d = 16 too.
using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <int Dim>
void BM_linucb_select(benchmark::State& state) {
  const auto k = static_cast<Eigen::Index>(state.range(0));
  const auto d = static_cast<Eigen::Index>(state.range(1));
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g;
  ib::linucb<Dim> pol(static_cast<std::size_t>(d), 1.0, 1.0);
  Eigen::VectorXd x(d);
  for (int i = 0; i < 200; ++i) {
    for (auto& v : x) v = g(rng);
    pol.update(x, g(rng));
  }
  std::vector<row_matrix> xs(64, row_matrix(k, d));
  for (auto& X : xs)
    for (auto& v : X.reshaped()) v = g(rng);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(pol.select(xs[i]));
    i = (i + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_linucb_select<Eigen::Dynamic>)
    ->Name("linucb/select/dynamic")
    ->ArgNames({"K", "d"})
    ->ArgsProduct({{2, 10, 23, 100}, {4, 7, 16, 32, 64}});
BENCHMARK(BM_linucb_select<16>)->Name("linucb/select/fixed16")->ArgNames({"K", "d"})->Args({10, 16});
BENCHMARK(BM_linucb_select<7>)->Name("linucb/select/fixed7")->ArgNames({"K", "d"})->Args({23, 7});

template <int Dim>
void BM_linucb_update(benchmark::State& state) {
  const auto d = static_cast<Eigen::Index>(state.range(0));
  std::mt19937_64 rng(6);
  std::normal_distribution<double> g;
  ib::linucb<Dim> pol(static_cast<std::size_t>(d), 1.0, 1.0);
  std::vector<Eigen::Matrix<double, Dim, 1>> xs(64, Eigen::Matrix<double, Dim, 1>::Zero(d));
  for (auto& x : xs)
    for (auto& v : x) v = g(rng);
  std::size_t i = 0;
  for (auto _ : state) {
    pol.update(xs[i], 0.5);
    i = (i + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_linucb_update<Eigen::Dynamic>)
    ->Name("linucb/update/dynamic")
    ->ArgName("d")
    ->Arg(4)
    ->Arg(7)
    ->Arg(16)
    ->Arg(32)
    ->Arg(64);
BENCHMARK(BM_linucb_update<16>)->Name("linucb/update/fixed16")->ArgName("d")->Arg(16);
BENCHMARK(BM_linucb_update<7>)->Name("linucb/update/fixed7")->ArgName("d")->Arg(7);

// Disjoint LinUCB, K arms sharing one context (the MABWiser / contextualbandits setting).
void BM_disjoint_select_update(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto d = static_cast<Eigen::Index>(state.range(1));
  std::mt19937_64 rng(7);
  std::normal_distribution<double> g;
  ib::disjoint_linucb<> pol(k, static_cast<std::size_t>(d), 1.0, 1.0);
  std::vector<Eigen::VectorXd> xs(64, Eigen::VectorXd(d));
  for (auto& x : xs)
    for (auto& v : x) v = g(rng);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto a = pol.select(xs[i]);
    pol.update(a, xs[i], 0.5);
    i = (i + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_disjoint_select_update)
    ->Name("disjoint_linucb/select+update")
    ->ArgNames({"K", "d"})
    ->Args({10, 16})
    ->Args({23, 7});

// Ridge statistics: Sherman-Morrison add vs a Cholesky refresh.
template <int Dim>
void BM_ridge_add(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  ib::ridge_stats<Dim> s(d, 1.0);
  std::mt19937_64 rng(8);
  std::normal_distribution<double> g;
  std::vector<Eigen::Matrix<double, Dim, 1>> xs(64, Eigen::Matrix<double, Dim, 1>::Zero(static_cast<Eigen::Index>(d)));
  for (auto& x : xs)
    for (auto& v : x) v = g(rng);
  std::size_t i = 0;
  for (auto _ : state) {
    s.add(xs[i], 0.25);
    i = (i + 1) & 63;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ridge_add<7>)->Name("ridge_stats/add/fixed7")->Arg(7);
BENCHMARK(BM_ridge_add<Eigen::Dynamic>)->Name("ridge_stats/add/dynamic")->Arg(7)->Arg(16)->Arg(64);

void BM_ridge_refresh(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  ib::ridge_stats<> s(d, 1.0);
  std::mt19937_64 rng(9);
  std::normal_distribution<double> g;
  Eigen::VectorXd x(static_cast<Eigen::Index>(d));
  for (int i = 0; i < 100; ++i) {
    for (auto& v : x) v = g(rng);
    s.add(x, 0.1);
  }
  for (auto _ : state) benchmark::DoNotOptimize(s.refresh());
}
BENCHMARK(BM_ridge_refresh)->Name("ridge_stats/refresh/dynamic")->Arg(7)->Arg(16)->Arg(64);

}  // namespace
