// Steady states that must not allocate (malloc counted): encoding and decoding tensors into kept
// buffers, and a frame of the online loop with a null backend. This is the only exec TU that
// includes the malloc counter.
#include <incision/exec/online_loop.hpp>
#include <incision/exec/tensor_codec.hpp>

#include "support/malloc_counter.hpp"

#include <doctest/doctest.h>

#include <vector>

using incision_test::allocations;
using incision_test::count_scope;

namespace ie = incision::exec;
namespace ip = incision::partition;

namespace {

// A three-layer chain that computes nothing: the cut is a copy of the input, the output fixed.
struct null_backend {
  ip::layer_graph g;
  null_backend() {
    for (const char* name : {"input", "a", "b"}) (void)g.add_layer(name, 1e-4, 1e-5, 64);
    g.add_edge(0, 1);
    g.add_edge(1, 2);
  }
  const ip::layer_graph& graph() const { return g; }
  void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) {
    cut.resize(1);
    cut[0].id = d.back();
    ie::resize(cut[0].value, input.shape());
    std::copy(input.data(), input.data() + input.size(), cut[0].value.data());
  }
  void run_server(ie::device_set d, const ie::tensor_list&, ie::tensor_list& out) {
    if (d.size() == 3) {
      out.clear();
      return;
    }
    out.resize(1);
    out[0].id = 2;
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

}  // namespace

TEST_CASE("encode and decode into kept buffers do not allocate" * doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  const ie::tensor t = ie::random_tensor({1, 16, 8, 8}, 1);
  const ie::tensor_list list{{3, t}, {5, ie::random_tensor({1, 32, 4, 4}, 2)}};
  std::vector<std::byte> wire;
  ie::tensor back;
  ie::tensor_list list_back;
  ie::encode(t, wire);
  ie::decode(wire, back);
  ie::encode(list, wire);
  ie::decode(wire, list_back);
  long counted = 0;
  {
    const count_scope scope;
    for (int i = 0; i < 20; ++i) {
      ie::encode(t, wire);
      ie::decode(wire, back);
      ie::encode(list, wire);
      ie::decode(wire, list_back);
    }
    counted = allocations.load();
  }
  CHECK(counted == 0);
  CHECK(back == t);
}

TEST_CASE("online loop: no allocation per frame in the steady state (null backend)"
          * doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  null_backend b;
  auto cands = ie::chain_candidates(b.graph());
  round_robin learner{cands.size()};
  ie::sim_link link(ie::bandwidth_trace({{0.0, 1e6, 1e-3, 1e-4}, {0.2, 1e5, 1e-3, 1e-4}}), 3);
  for (const auto timing : {ie::compute_timing::modeled, ie::compute_timing::measured}) {
    ie::loop_options lo;
    lo.timing = timing;
    lo.deadline = 2e-3;  // some frames fall back
    ie::online_loop loop(learner, b, b, link, cands, b.graph(), lo);
    const ie::tensor x = ie::random_tensor({16}, 1);
    ie::tensor_list out;
    for (int i = 0; i < 10; ++i) (void)loop.run_frame(x, out);
    long counted = 0;
    std::size_t fallbacks = 0, offloads = 0;
    {
      const count_scope scope;
      for (int i = 0; i < 300; ++i) {
        const auto r = loop.run_frame(x, out);
        fallbacks += r.fallback;
        offloads += r.offloaded && !r.fallback;
      }
      counted = allocations.load();
    }
    CHECK(counted == 0);
    CHECK(out.size() == 1);
    if (timing == ie::compute_timing::modeled) {
      CHECK(fallbacks > 0);
      CHECK(offloads > 0);
    }
  }
}
