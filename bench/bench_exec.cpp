// incision::exec benchmarks: the online loop's own cost per frame (null backend: no compute, a
// 64-byte cut, modeled times, so what is left is the learner call, bookkeeping, encode, the
// simulated link and decode), the CPU backend's conv2d layers and whole networks, and the tensor
// codec's round trip on 1 MB tensors. PyTorch on the same layers and weights: bench/exec_torch.py.
#include <incision/exec.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Counts every malloc of the process (Eigen and operator new both go through it): the loop's
// steady state must not allocate. On glibc a malloc defined here interposes the C library's
// (as tests/support/malloc_counter.hpp does); elsewhere the counter reads -1.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define INCISION_BENCH_COUNT_MALLOC 1
extern "C" void* __libc_malloc(std::size_t n);
extern "C" void* malloc(std::size_t n) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#else
#define INCISION_BENCH_COUNT_MALLOC 0
#endif

namespace ie = incision::exec;
namespace ip = incision::partition;

namespace {

// A chain that computes nothing: the cut is a copy of the (16-float) input, the output fixed.
struct null_backend {
  ip::layer_graph g;
  explicit null_backend(std::size_t layers) {
    for (std::size_t i = 0; i < layers; ++i) (void)g.add_layer("l" + std::to_string(i), 1e-4, 1e-5, 64);
    for (std::size_t i = 1; i < layers; ++i) g.add_edge(static_cast<ip::layer_id>(i - 1), static_cast<ip::layer_id>(i));
  }
  const ip::layer_graph& graph() const { return g; }
  void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) {
    cut.resize(1);
    cut[0].id = d.back();
    ie::resize(cut[0].value, input.shape());
    std::copy(input.data(), input.data() + input.size(), cut[0].value.data());
  }
  void run_server(ie::device_set d, const ie::tensor_list&, ie::tensor_list& out) {
    if (d.size() == g.size()) {
      out.clear();
      return;
    }
    out.resize(1);
    out[0].id = static_cast<ip::layer_id>(g.size() - 1);
    const std::array<std::size_t, 1> shape{16};
    ie::resize(out[0].value, shape);
    out[0].value.fill(0.5F);
  }
};

struct round_robin {
  std::size_t n, next = 0;
  std::size_t select(bool) { return next++ % n; }
  void update(std::size_t, double) {}
};

// Per frame: learner select/update, device part (a 64-byte copy), encode, link, decode, server
// part (a 16-float fill), output collection. Every chain cut in turn (the all-device one too).
void BM_loop_overhead_null_backend(benchmark::State& state) {
  null_backend b(static_cast<std::size_t>(state.range(0)));
  auto cands = ie::chain_candidates(b.graph());
  round_robin learner{cands.size()};
  ie::sim_link link(ie::bandwidth_trace::constant(1e7, 1e-3));
  ie::loop_options lo;
  lo.timing = ie::compute_timing::modeled;
  lo.deadline = 1.0;
  ie::online_loop loop(learner, b, b, link, cands, b.graph(), lo);
  const ie::tensor x = ie::random_tensor({16}, 1);
  ie::tensor_list out;
  for (std::size_t i = 0; i < 2 * cands.size(); ++i) (void)loop.run_frame(x, out);  // warm the buffers
  const long before = g_allocations.load();
  for (auto _ : state) {
    auto r = loop.run_frame(x, out);
    benchmark::DoNotOptimize(r);
  }
  state.counters["allocs_per_frame"] =
      INCISION_BENCH_COUNT_MALLOC ? static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations())
                                  : -1.0;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_loop_overhead_null_backend)->Arg(3)->Arg(25);

// One conv2d layer of an example network (its real input), by layer id.
void conv_layer(benchmark::State& state, const char* name) {
  ie::cpu_backend net(ie::example_network(name, 0));
  const auto v = static_cast<ip::layer_id>(state.range(0));
  const auto all = ie::all_layers(net.graph());
  ie::tensor_list cut;
  net.run_device(all, ie::random_tensor(net.input_shape(), 1), cut);
  for (auto _ : state) {
    net.run_layer(v);
    benchmark::DoNotOptimize(net.value(v).data());
  }
  const double flops = 2.0 * net.graph()[v].macs;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(net.graph()[v].name + " " + ie::shape_string(net.value(v).shape()));
}

void conv_args(benchmark::internal::Benchmark* b, const char* name) {
  const auto net = ie::example_network(name, 0);
  for (ip::layer_id v = 0; v < net.size(); ++v)
    if (net.at(v).kind == ie::op_kind::conv2d) b->Arg(v);
}

void BM_conv2d_resnet(benchmark::State& state) { conv_layer(state, "resnet"); }
BENCHMARK(BM_conv2d_resnet)->Apply([](benchmark::internal::Benchmark* b) { conv_args(b, "resnet"); });

// The whole network, unsplit.
void network_run(benchmark::State& state, const char* name) {
  ie::cpu_backend net(ie::example_network(name, 0));
  const auto all = ie::all_layers(net.graph());
  const ie::tensor x = ie::random_tensor(net.input_shape(), 1);
  ie::tensor_list cut;
  for (auto _ : state) {
    net.run_device(all, x, cut);
    benchmark::DoNotOptimize(cut.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * net.net().total_macs() * 1e-9 * static_cast<double>(state.iterations()),
                                                 benchmark::Counter::kIsRate);
}
void BM_network_resnet(benchmark::State& state) { network_run(state, "resnet"); }
void BM_network_inception(benchmark::State& state) { network_run(state, "inception"); }
BENCHMARK(BM_network_resnet);
BENCHMARK(BM_network_inception);

// Serialise + deserialise a 1 MB tensor (262,144 float32) into kept buffers; bytes/s counts the
// tensor's bytes once per round trip.
void BM_codec_round_trip_1MB(benchmark::State& state) {
  const ie::tensor t = ie::random_tensor({1, 64, 64, 64}, 3);
  std::vector<std::byte> wire;
  ie::tensor back;
  ie::encode(t, wire);
  ie::decode(wire, back);
  for (auto _ : state) {
    ie::encode(t, wire);
    ie::decode(wire, back);
    benchmark::DoNotOptimize(back.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(4 * t.size()));
}
BENCHMARK(BM_codec_round_trip_1MB);

// The same through the list form a cut uses (kind 301).
void BM_codec_list_round_trip_1MB(benchmark::State& state) {
  const ie::tensor_list cut{{7, ie::random_tensor({1, 64, 64, 64}, 3)}};
  std::vector<std::byte> wire;
  ie::tensor_list back;
  ie::encode(cut, wire);
  ie::decode(wire, back);
  for (auto _ : state) {
    ie::encode(cut, wire);
    ie::decode(wire, back);
    benchmark::DoNotOptimize(back.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * (4 << 18));
}
BENCHMARK(BM_codec_list_round_trip_1MB);

}  // namespace
