// The reference CPU backend on both example networks: for every device set DSL or the bandwidth
// map returns over a bandwidth sweep, and every topological prefix (the chain cuts of a DAG),
// the split output equals the unsplit output bit for bit, also through the codec and a second
// backend instance; bad sets and bad cuts are refused.
#include <incision/exec/cpu_backend.hpp>
#include <incision/exec/example_networks.hpp>
#include <incision/exec/run_split.hpp>
#include <incision/exec/tensor_codec.hpp>
#include <incision/partition/bandwidth_map.hpp>
#include <incision/partition/dsl.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace ie = incision::exec;
namespace ip = incision::partition;

namespace {

bool bit_equal(const ie::tensor_list& a, const ie::tensor_list& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].value.shape() != b[i].value.shape() ||
        std::memcmp(a[i].value.data(), b[i].value.data(), 4 * a[i].value.size()) != 0)
      return false;
  return true;
}

// A profile with a server ten times faster than the device and times from the MACs, so the
// partitioners return a spread of cuts over the bandwidth sweep.
ip::layer_graph synthetic_profile(const ip::layer_graph& g0) {
  ip::layer_graph g = g0;
  for (ip::layer_id v = 0; v < g.size(); ++v)
    g.set_costs(v, 1e-6 + g[v].macs * 1e-9, 1e-7 + g[v].macs * 1e-10, g[v].out_bytes);
  return g;
}

std::set<std::vector<ip::layer_id>> candidate_sets(const ip::layer_graph& g) {
  std::set<std::vector<ip::layer_id>> sets;
  for (double bw = 1e3; bw <= 1e10; bw *= std::sqrt(10.0)) sets.insert(ip::dsl(g, bw).device_layers);
  const ip::bandwidth_map map(g, 1e3, 1e10);
  for (const auto& p : map.plans()) sets.insert(p.device_layers);
  const auto& order = g.topological_order();
  for (std::size_t k = 1; k <= order.size(); ++k) {
    std::vector<ip::layer_id> d(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k));
    std::sort(d.begin(), d.end());
    sets.insert(d);
  }
  return sets;
}

}  // namespace

TEST_CASE("example networks: a few MFLOPs, (1, 3, 32, 32) in, 10 probabilities out") {
  for (const char* name : {"resnet", "inception"}) {
    ie::cpu_backend b(ie::example_network(name, 1));
    CHECK(b.input_shape() == ie::shape_type{1, 3, 32, 32});
    const double mflops = 2 * b.net().total_macs() / 1e6;
    CHECK(mflops > 2.0);
    CHECK(mflops < 20.0);
    MESSAGE(std::string(name) << ": " << b.graph().size() << " layers, " << mflops << " MFLOPs");
    const auto out = ie::run(b, ie::random_tensor({1, 3, 32, 32}, 2));
    REQUIRE(out.size() == 1);
    CHECK(out[0].value.shape() == ie::tensor::shape_type{1, 10});
    double sum = 0;
    for (const float p : out[0].value) sum += p;
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK_THROWS_WITH_AS((void)ie::example_network("vgg"), doctest::Contains("unknown example network 'vgg'"),
                       incision::invalid_argument);
}

TEST_CASE("split output equals unsplit output for every plan of DSL, the bandwidth map and every chain cut") {
  for (const char* name : {"resnet", "inception"}) {
    ie::cpu_backend device(ie::example_network(name, 7));
    ie::cpu_backend server(ie::example_network(name, 7));  // a second instance: same seed, same weights
    const ie::tensor x = ie::random_tensor({1, 3, 32, 32}, 3);
    const auto whole = ie::run(device, x);
    const auto sets = candidate_sets(synthetic_profile(device.graph()));
    std::size_t multi_tensor_cuts = 0, partial = 0;
    ie::tensor_list cut, decoded, server_out, outputs;
    std::vector<std::byte> wire;
    for (const auto& d : sets) {
      CHECK(bit_equal(ie::run_split(device, d, x), whole));
      // through the wire format and another backend
      device.run_device(d, x, cut);
      ie::encode(cut, wire);
      ie::decode(wire, decoded);
      server.run_server(d, decoded, server_out);
      ie::collect_outputs(device.graph(), cut, server_out, outputs);
      CHECK(bit_equal(outputs, whole));
      std::size_t shipped = 0;
      for (const auto& t : cut) shipped += device.graph().successors(t.id).empty() ? 0 : 1;
      multi_tensor_cuts += shipped > 1 ? 1 : 0;
      partial += d.size() < device.graph().size() ? 1 : 0;
    }
    MESSAGE(std::string(name) << ": " << sets.size() << " device sets, " << multi_tensor_cuts
                              << " with several tensors crossing");
    CHECK(multi_tensor_cuts >= 3);
    CHECK(partial >= 10);
  }
}

TEST_CASE("cpu_backend refuses infeasible sets, wrong inputs and bad cuts, computing nothing") {
  ie::cpu_backend b(ie::resnet_network(1));
  const ie::tensor x = ie::random_tensor({1, 3, 32, 32}, 1);
  ie::tensor_list cut, out;
  const std::vector<ip::layer_id> no_input{1, 2}, gap{0, 2}, unsorted{1, 0}, unknown{0, 9999};
  CHECK_THROWS_WITH_AS(b.run_device(no_input, x, cut), doctest::Contains("input layer must be on the device"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS(b.run_device(gap, x, cut), doctest::Contains("is on the device but its input"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(b.run_device(unsorted, x, cut), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(b.run_device(unknown, x, cut), doctest::Contains("names layer 9999"),
                       incision::invalid_argument);
  const std::vector<ip::layer_id> first{0, 1};
  CHECK_THROWS_WITH_AS(b.run_device(first, ie::random_tensor({1, 3, 16, 16}, 1), cut),
                       doctest::Contains("input of shape (1, 3, 16, 16)"), incision::invalid_argument);
  b.run_device(first, x, cut);
  REQUIRE(cut.size() == 1);
  CHECK(cut[0].id == 1);
  CHECK_THROWS_WITH_AS(b.run_server(first, ie::tensor_list{}, out), doctest::Contains("lacks the tensor of layer"),
                       incision::invalid_argument);
  ie::tensor_list wrong{{1, ie::random_tensor({1, 16, 2, 2}, 1)}};
  CHECK_THROWS_WITH_AS(b.run_server(first, wrong, out), doctest::Contains("has shape (1, 16, 2, 2)"),
                       incision::invalid_argument);
  b.run_server(first, cut, out);
  CHECK(out.size() == 1);
}
