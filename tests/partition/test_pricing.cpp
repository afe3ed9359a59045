// Pricing: evaluate() against the closed-form latency of hand-made placements, and its errors.
#include <incision/partition.hpp>

#include <doctest/doctest.h>

#include <vector>

namespace ip = incision::partition;

TEST_CASE("evaluate prices a diamond by the formula in pricing.hpp") {
  // in -> a, in -> b, a -> out, b -> out; costs chosen so every term is distinct
  ip::layer_graph g;
  g.add_layer("in", 1, 100, 8);
  g.add_layer("a", 2, 200, 16);
  g.add_layer("b", 4, 400, 32);
  g.add_layer("out", 8, 800, 64);
  g.add_edge(0, 1);
  g.add_edge(0, 2);
  g.add_edge(1, 3);
  g.add_edge(2, 3);
  const ip::simple_link link(2.0, 0.5, 4.0);
  // device {in, a}: in ships to b (8/2), a ships to out (16/2); out downloads 64/4
  const auto p = ip::evaluate(g, g, link, std::vector<ip::layer_id>{0, 1});
  CHECK(p.device_time == 3.0);
  CHECK(p.server_time == 1200.0);
  CHECK(p.upload_time == 12.0);
  CHECK(p.shipped_bytes == 24.0);
  CHECK(p.download_time == 16.0);
  CHECK(p.rtt == 0.5);
  CHECK(p.latency == 3.0 + 12.0 + 1200.0 + 16.0 + 0.5);
  CHECK(p.max_stage == 1200.0);
  CHECK(p.shipped_layers == std::vector<ip::layer_id>{0, 1});
  // all on the device: nothing shipped, no RTT, no download
  const auto local = ip::evaluate(g, g, link, std::vector<ip::layer_id>{0, 1, 2, 3});
  CHECK(local.latency == 15.0);
  CHECK(local.rtt == 0.0);
  CHECK(local.shipped_layers.empty());
}

TEST_CASE("evaluate rejects infeasible sets and unknown ids, naming the layer") {
  ip::layer_graph g;
  g.add_layer("in", 1, 1, 1);
  g.add_layer("mid", 1, 1, 1);
  g.add_layer("out", 1, 1, 1);
  g.add_edge(0, 1);
  g.add_edge(1, 2);
  const ip::simple_link link(1.0);
  CHECK_THROWS_WITH_AS((void)ip::evaluate(g, g, link, std::vector<ip::layer_id>{0, 2}),
                       doctest::Contains("layer 'out' (id 2)"), incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::evaluate(g, g, link, std::vector<ip::layer_id>{}),
                       doctest::Contains("layer 'in' (id 0)"), incision::invalid_argument);
  CHECK_THROWS_AS((void)ip::evaluate(g, g, link, std::vector<ip::layer_id>{0, 7}), incision::out_of_range);
}
