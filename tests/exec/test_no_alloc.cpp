// Steady states that must not allocate (malloc counted): encoding and decoding tensors into kept
// buffers, and a frame of the online loop with a null backend. This is the only exec TU that
// includes the malloc counter.
#include <incision/exec/null_backend.hpp>
#include <incision/exec/online_loop.hpp>
#include <incision/exec/tensor_codec.hpp>

#include "support/malloc_counter.hpp"

#include <doctest/doctest.h>

#include <vector>

using incision_test::allocations;
using incision_test::count_scope;

namespace ie = incision::exec;

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

TEST_CASE("online loop: no allocation per frame in the steady state (null backend)" *
          doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  ie::null_backend b(3);
  auto cands = ie::chain_candidates(b.graph());
  ie::round_robin_learner learner{cands.size()};
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
    REQUIRE(out.size() == 1);
    CHECK(out[0].value == x);  // identity layers: the output is the input, offloaded or not
    if (timing == ie::compute_timing::modeled) {
      CHECK(fallbacks > 0);
      CHECK(offloads > 0);
    }
  }
}
