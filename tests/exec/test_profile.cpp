// profile fills a backend's layer graph (structure only: no timing thresholds), by layer on the
// CPU backend and by prefixes on a backend without run_layer; network -> plan in three lines.
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/presplit_backend.hpp>
#include <incision/exec/profile.hpp>
#include <incision/partition/dsl.hpp>

#include <doctest/doctest.h>

#include <cstring>

namespace ie = incision::exec;
namespace ip = incision::partition;

TEST_CASE("network -> profile -> optimal plan in three lines, and the plan runs to the unsplit output") {
  ie::cpu_backend net(ie::example_network("inception", 3));
  const auto g = ie::profile(net, ie::random_tensor(net.input_shape(), 1), {.repeats = 3, .server_speedup = 10});
  const auto plan = ip::dsl(g, 1e6);

  REQUIRE(g.size() == net.graph().size());
  double conv_time = 0.0;
  for (ip::layer_id v = 0; v < g.size(); ++v) {
    CHECK(g[v].server_time == doctest::Approx(g[v].device_time / 10).epsilon(1e-12));
    CHECK(g[v].out_bytes == 4.0 * static_cast<double>(net.value(v).size()));
    CHECK(g[v].name == net.graph()[v].name);
    if (g[v].type == "conv") conv_time += g[v].device_time;
  }
  CHECK(conv_time > 0.0);
  CHECK(g.num_edges() == net.graph().num_edges());
  const ie::tensor x = ie::random_tensor(net.input_shape(), 2);
  const auto a = ie::run_split(net, plan.device_layers, x), b = ie::run(net, x);
  REQUIRE(a.size() == 1);
  CHECK(std::memcmp(a[0].value.data(), b[0].value.data(), 40) == 0);
}

TEST_CASE("profile by prefixes for a backend without run_layer; measured server times; bad options") {
  ip::layer_graph g;
  for (const char* name : {"in", "a", "b"}) (void)g.add_layer(name, 0, 0, 0);
  g.add_edge(0, 1);
  g.add_edge(1, 2);
  using part = ie::presplit_backend::part;
  const part grow([](const ie::tensor& in, ie::tensor& out) { out = xt::concatenate(xt::xtuple(in, in)); });
  const part same([](const ie::tensor& in, ie::tensor& out) { out = in; });
  ie::presplit_backend b(g, {same, grow, grow}, {grow, same});
  static_assert(!ie::has_run_layer<ie::presplit_backend>);
  const ie::tensor x = ie::random_tensor({4}, 1);
  const auto p = ie::profile(b, x, {.repeats = 3, .server_speedup = 2});
  CHECK(p[0].out_bytes == 16.0);
  CHECK(p[1].out_bytes == 32.0);  // seen in the cut of prefix 2
  CHECK(p[2].out_bytes == 32.0);  // the output (head 3 = grow), in the cut list of the full prefix
  for (ip::layer_id v = 0; v < 3; ++v) CHECK(p[v].device_time >= 0.0);

  ie::cpu_backend d(ie::resnet_network(1)), s(ie::resnet_network(1));
  const auto both = ie::profile(d, s, ie::random_tensor(d.input_shape(), 1), {.repeats = 1});
  CHECK(both.size() == d.graph().size());
  CHECK_THROWS_WITH_AS((void)ie::profile(d, x, {.repeats = 0}), doctest::Contains("repeats must be >= 1"),
                       incision::invalid_argument);
  CHECK_THROWS_AS((void)ie::profile(d, x, {.server_speedup = 0}), incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ie::profile(d, b, x), doctest::Contains("networks differ"), incision::invalid_argument);
}
