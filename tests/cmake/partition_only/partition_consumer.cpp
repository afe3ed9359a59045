// Uses the partition area through its umbrella header with neither Eigen nor xtensor around.
#include <incision/partition.hpp>

#include <cstdio>

int main() {
  namespace ip = incision::partition;
  ip::layer_graph g;
  const auto input = g.add_layer("input", 0.0, 0.0, 1000.0);
  const auto conv = g.add_layer("conv", 0.5, 0.01, 10.0);
  g.add_edge(input, conv);
  const ip::plan slow = ip::dsl(g, 100.0);  // 10 s to ship the input: stay on the device
  const ip::plan fast = ip::dsl(g, 1.0e6);  // 1 ms to ship it: offload conv
  std::printf("%zu/%zu device layers\n", slow.device_layers.size(), fast.device_layers.size());
  return slow.device_layers.size() == 2 && fast.device_layers.size() == 1 ? 0 : 1;
}
