// FedLinUCB-DW benchmarks: edge aggregation rounds (10,000 devices, d = 16; target <= 10 ms per
// round), the O(d^2) log-det upload trigger against an O(d^3) determinant per step (what the
// public federated bandit codes do), and the device's per-frame overhead over plain muLinUCB.
#include <incision/bandit/mu_linucb.hpp>
#include <incision/bandit/ridge_stats.hpp>
#include <incision/federated/aggregator.hpp>
#include <incision/federated/exchange.hpp>
#include <incision/federated/linucb_dw.hpp>
#include <incision/federated/messages.hpp>

#include <benchmark/benchmark.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fed = incision::federated;
namespace ib = incision::bandit;

namespace {

constexpr int kDim = 16;
constexpr int kGroups = 3;
constexpr int kRounds = 12;  // pre-encoded rounds at most; each benchmark iteration is one round

const std::string& group_name(std::size_t i) {
  static const std::string names[kGroups] = {"vgg16/jetson-tx2", "vgg16/jetson-nano", "tiny-yolov2/rpi4"};
  return names[i % kGroups];
}

/// One upload per device per round: `rows` observations as rows, or dense statistics.
std::vector<std::vector<std::vector<std::byte>>> make_rounds(std::size_t devices, int rows, bool dense,
                                                             int n_rounds = kRounds) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<std::vector<std::vector<std::byte>>> rounds(static_cast<std::size_t>(n_rounds));
  for (int r = 0; r < n_rounds; ++r) {
    rounds[static_cast<std::size_t>(r)].reserve(devices);
    for (std::size_t i = 0; i < devices; ++i) {
      fed::fed_upload u;
      u.device_id = i + 1;
      u.seq = static_cast<std::uint64_t>(r + 1);
      u.count = static_cast<std::uint64_t>(rows);
      // Plain loops: GCC 12 -O3 reports a false -Warray-bounds inside Eigen's small products here.
      Eigen::MatrixXd x(rows, kDim);
      Eigen::VectorXd y(rows);
      for (int a = 0; a < rows; ++a) {
        for (int j = 0; j < kDim; ++j) x(a, j) = n(rng);
        y(a) = n(rng);
      }
      if (dense) {
        u.gram = Eigen::MatrixXd::Zero(kDim, kDim);
        u.moment = Eigen::VectorXd::Zero(kDim);
        for (int a = 0; a < rows; ++a)
          for (int j = 0; j < kDim; ++j) {
            u.moment(j) += y(a) * x(a, j);
            for (int c = 0; c < kDim; ++c) u.gram(c, j) += x(a, c) * x(a, j);
          }
      } else {
        u.as_rows = true;
        u.rows_x = x;
        u.rows_y = y;
        u.rows_w = Eigen::VectorXd::Ones(rows);
      }
      rounds[static_cast<std::size_t>(r)].push_back(fed::encode(u));
    }
  }
  return rounds;
}

fed::fed_aggregator registered_edge(std::size_t devices) {
  fed::fed_aggregator edge;
  for (std::size_t i = 0; i < devices; ++i)
    (void)edge.handle(fed::encode(fed::fed_hello{i + 1, group_name(i), kDim, 0}));
  return edge;
}

/// One synchronisation round over the wire: every device's upload is checked (envelope, CRC-32,
/// every field), added to its group and acknowledged; then one broadcast download per group.
///
/// No fixed iteration or repetition count, so --benchmark_min_time and --benchmark_repetitions
/// decide (the test command's minimal-time run times one round). Only as many rounds as this run
/// times are encoded, at most kRounds; when their sequence numbers run out, a freshly registered
/// edge takes over outside the timing, so every timed round is round 1..kRounds of a fresh edge.
void run_wire_round(benchmark::State& state, int rows, bool dense) {
  const auto devices = static_cast<std::size_t>(state.range(0));
  const int n_rounds = static_cast<int>(std::clamp<benchmark::IterationCount>(state.max_iterations, 1, kRounds));
  const auto rounds = make_rounds(devices, rows, dense, n_rounds);
  const std::uint64_t per_group = (devices + kGroups - 1) / kGroups;  // uploads of group 0 per round
  auto edge = registered_edge(devices);
  bool refused = false;
  std::size_t bytes = 0;
  int r = 0;
  for (auto _ : state) {
    if (r == n_rounds) {
      state.PauseTiming();
      refused = refused || edge.group_version(group_name(0)) != static_cast<std::uint64_t>(r) * per_group;
      edge = registered_edge(devices);
      r = 0;
      state.ResumeTiming();
    }
    for (const auto& msg : rounds[static_cast<std::size_t>(r)]) {
      auto ack = edge.handle(msg);
      benchmark::DoNotOptimize(ack.data());
      bytes += msg.size();
    }
    for (std::size_t g = 0; g < kGroups; ++g) {
      auto down = edge.broadcast(group_name(g));
      benchmark::DoNotOptimize(down.data());
    }
    ++r;
  }
  if (refused || edge.group_version(group_name(0)) != static_cast<std::uint64_t>(r) * per_group)
    state.SkipWithError("uploads were refused");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(devices));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["upload_bytes"] = static_cast<double>(rounds[0][0].size());
}

void BM_fed_round_rows1(benchmark::State& state) { run_wire_round(state, 1, false); }
void BM_fed_round_rows4(benchmark::State& state) { run_wire_round(state, 4, false); }
void BM_fed_round_dense(benchmark::State& state) { run_wire_round(state, 32, true); }
BENCHMARK(BM_fed_round_rows1)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fed_round_rows4)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fed_round_dense)->Arg(10000)->Unit(benchmark::kMillisecond);

/// The arithmetic alone: 10,000 decoded dense statistics summed into their groups (no bytes).
void BM_fed_round_sum_only(benchmark::State& state) {
  const auto devices = static_cast<std::size_t>(state.range(0));
  std::mt19937_64 rng(1);
  std::normal_distribution<double> n(0.0, 1.0);
  std::vector<Eigen::MatrixXd> grams(devices, Eigen::MatrixXd(kDim, kDim));
  std::vector<Eigen::VectorXd> moments(devices, Eigen::VectorXd(kDim));
  for (std::size_t i = 0; i < devices; ++i) {
    for (int a = 0; a < kDim; ++a) {
      moments[i](a) = n(rng);
      for (int b = 0; b < kDim; ++b) grams[i](a, b) = n(rng);
    }
  }
  std::vector<Eigen::MatrixXd> g(kGroups, Eigen::MatrixXd::Zero(kDim, kDim));
  std::vector<Eigen::VectorXd> m(kGroups, Eigen::VectorXd::Zero(kDim));
  for (auto _ : state) {
    for (std::size_t i = 0; i < devices; ++i) {
      g[i % kGroups] += grams[i];
      m[i % kGroups] += moments[i];
    }
    benchmark::DoNotOptimize(g[0].data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(devices));
}
BENCHMARK(BM_fed_round_sum_only)->Arg(10000)->Unit(benchmark::kMillisecond);

/// The CRC-32 of the shared envelope over one dense d = 16 upload (bytes per device per round).
void BM_fed_crc_dense_upload(benchmark::State& state) {
  const auto rounds = make_rounds(1, 32, true);
  const auto& msg = rounds[0][0];
  for (auto _ : state) benchmark::DoNotOptimize(incision::detail::crc32(msg));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * static_cast<std::int64_t>(msg.size())));
}
BENCHMARK(BM_fed_crc_dense_upload);

/// Upload trigger: ln det A kept by the matrix-determinant lemma (inside ridge_stats::add, O(d^2))
/// versus a Cholesky log-det recomputed every step (O(d^3)), d = state.range(0).
void BM_fed_trigger_lemma(benchmark::State& state) {
  const auto d = static_cast<std::size_t>(state.range(0));
  ib::ridge_stats<> s(d, 1.0);
  std::mt19937_64 rng(2);
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::VectorXd x(static_cast<Eigen::Index>(d));
  const double log_det_sync = s.log_det();
  std::uint64_t buffered = 0;
  for (auto _ : state) {
    for (auto& v : x) v = n(rng) * 0.1;
    s.add(x, 0.5);
    ++buffered;
    const double score = (s.log_det() - log_det_sync) * static_cast<double>(buffered);
    benchmark::DoNotOptimize(score);
  }
}
void BM_fed_trigger_recompute(benchmark::State& state) {
  const auto d = static_cast<Eigen::Index>(state.range(0));
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(d, d);
  std::mt19937_64 rng(2);
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::VectorXd x(d);
  const double log_det_sync = 0.0;
  std::uint64_t buffered = 0;
  Eigen::LLT<Eigen::MatrixXd> llt(d);
  for (auto _ : state) {
    for (auto& v : x) v = n(rng) * 0.1;
    a.noalias() += x * x.transpose();
    ++buffered;
    llt.compute(a);
    const double score =
        (2.0 * llt.matrixLLT().diagonal().array().log().sum() - log_det_sync) * static_cast<double>(buffered);
    benchmark::DoNotOptimize(score);
  }
}
BENCHMARK(BM_fed_trigger_lemma)->Arg(7)->Arg(16)->Arg(64);
BENCHMARK(BM_fed_trigger_recompute)->Arg(7)->Arg(16)->Arg(64);

/// Device per frame on the VGG16-sized problem (K = 23, d = 7): select + update + trigger check,
/// federated device vs plain muLinUCB (the cooperative layer's overhead).
Eigen::MatrixXd bench_contexts(int k, int d) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd x(k, d);
  for (int a = 0; a < k; ++a)
    for (int j = 0; j < d; ++j) x(a, j) = (a == k - 1) ? 0.0 : u(rng);
  return x;
}
void BM_fed_device_frame(benchmark::State& state) {
  const Eigen::MatrixXd x = bench_contexts(23, 7);
  const Eigen::VectorXd f = Eigen::VectorXd::LinSpaced(23, 0.0, 0.5);
  fed::fed_linucb_dw_options o;
  o.upload_threshold = INFINITY;
  fed::fed_linucb_dw<> dev(1, "g", x, f, o);
  std::size_t t = 0;
  for (auto _ : state) {
    const auto a = dev.select(t % 5 == 0);
    dev.update(a, 0.2 + 0.01 * static_cast<double>(t % 7));
    benchmark::DoNotOptimize(dev.wants_upload());
    ++t;
  }
}
void BM_fed_mulinucb_frame(benchmark::State& state) {
  const Eigen::MatrixXd x = bench_contexts(23, 7);
  const Eigen::VectorXd f = Eigen::VectorXd::LinSpaced(23, 0.0, 0.5);
  ib::mu_linucb<> learner(x, f);
  std::size_t t = 0;
  for (auto _ : state) {
    const auto a = learner.select(t % 5 == 0);
    learner.update(a, 0.2 + 0.01 * static_cast<double>(t % 7));
    ++t;
  }
}
BENCHMARK(BM_fed_device_frame);
BENCHMARK(BM_fed_mulinucb_frame);

/// A full device-edge exchange in one process: upload (1 row) -> ack -> personal download.
void BM_fed_exchange(benchmark::State& state) {
  const Eigen::MatrixXd x = bench_contexts(23, 7);
  const Eigen::VectorXd f = Eigen::VectorXd::LinSpaced(23, 0.0, 0.5);
  fed::fed_linucb_dw_options o;
  o.upload_threshold = 0.0;
  fed::fed_linucb_dw<> dev(1, "g", x, f, o);
  fed::fed_aggregator edge;
  (void)dev.receive(edge.handle(dev.hello()));
  for (auto _ : state) {
    dev.update(3, 0.25);
    benchmark::DoNotOptimize(fed::exchange(dev, edge).bytes);
  }
}
BENCHMARK(BM_fed_exchange);

}  // namespace
