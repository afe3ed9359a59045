// incision::exec benchmarks: the online loop's own cost per frame (null backend: no compute, a
// 64-byte cut, modeled times, so what is left is the learner call, bookkeeping, encode, the
// simulated link and decode), the CPU backend's conv2d layers and whole networks, the tensor
// codec's round trip on 1 and 16 MiB tensors, and the CRC-32 alone. PyTorch on the same layers
// and weights: bench/exec_torch.py.
#include <incision/detail/crc32.hpp>
#include <incision/exec.hpp>
#include <incision/exec/null_backend.hpp>

#include <benchmark/benchmark.h>

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
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

// Per frame: learner select/update, device part (a 64-byte copy), encode, link, decode, server
// part (a 64-byte copy), output collection. Every chain cut in turn (the all-device one too).
void BM_loop_overhead_null_backend(benchmark::State& state) {
  ie::null_backend b(static_cast<std::size_t>(state.range(0)));
  auto cands = ie::chain_candidates(b.graph());
  ie::round_robin_learner learner{cands.size()};
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
      INCISION_BENCH_COUNT_MALLOC
          ? static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations())
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
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
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
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * net.net().total_macs() * 1e-9 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
void BM_network_resnet(benchmark::State& state) { network_run(state, "resnet"); }
void BM_network_inception(benchmark::State& state) { network_run(state, "inception"); }
BENCHMARK(BM_network_resnet);
BENCHMARK(BM_network_inception);

// Serialise + deserialise a float32 tensor of range(0) MiB, (1, 64, h, h) with 64 h^2 = 2^18
// range(0), into kept buffers; bytes/s counts the tensor's bytes once per round trip.
ie::tensor codec_tensor(const benchmark::State& state) {
  const auto h = static_cast<std::size_t>(64 * std::lround(std::sqrt(static_cast<double>(state.range(0)))));
  return ie::random_tensor({1, 64, h, h}, 3);
}

template <class Value>
void codec_round_trip(benchmark::State& state, const Value& value, std::size_t tensor_bytes) {
  std::vector<std::byte> wire;
  Value back;
  ie::encode(value, wire);
  ie::decode(wire, back);
  for (auto _ : state) {
    ie::encode(value, wire);
    ie::decode(wire, back);
    benchmark::DoNotOptimize(back.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(tensor_bytes));
  state.SetLabel(incision::detail::crc32_has_clmul() ? "CRC: carry-less multiply" : "CRC: slicing-by-8");
}

void BM_codec_round_trip(benchmark::State& state) {
  const ie::tensor t = codec_tensor(state);
  codec_round_trip(state, t, 4 * t.size());
}
BENCHMARK(BM_codec_round_trip)->Arg(1)->Arg(16);

// The same through the list form a cut uses (kind 301).
void BM_codec_list_round_trip(benchmark::State& state) {
  const ie::tensor_list cut{{7, codec_tensor(state)}};
  codec_round_trip(state, cut, 4 * cut[0].value.size());
}
BENCHMARK(BM_codec_list_round_trip)->Arg(1)->Arg(16);

// The CRC alone over 1 MiB: the kernel in use and the portable one, side by side.
void BM_crc32_1MB(benchmark::State& state) {
  const ie::tensor t = ie::random_tensor({1 << 18}, 4);
  const auto bytes = std::as_bytes(std::span<const float>(t.data(), t.size()));
  const bool portable = state.range(0) != 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(portable ? incision::detail::crc32_update_portable(0, bytes)
                                      : incision::detail::crc32(bytes));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes.size()));
  state.SetLabel(portable
                     ? "slicing-by-8"
                     : (incision::detail::crc32_has_clmul() ? "carry-less multiply" : "slicing-by-8 (no PCLMULQDQ)"));
}
BENCHMARK(BM_crc32_1MB)->Arg(0)->Arg(1);

}  // namespace
