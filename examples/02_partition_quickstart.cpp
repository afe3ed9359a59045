// Cut a small branching network at the latency-optimal point (DADS DSL, corrected).
#include <incision/incision.hpp>

#include <cstdio>

// Prints, from CAT1 to Wi-Fi: all on the device; cut after both branches; ship the input (twice).
int main() {
  namespace ip = incision::partition;
  ip::layer_graph g;  // times in seconds, sizes in bytes
  const auto input = g.add_layer("input", 0.0, 0.0, 602112);
  const auto conv1 = g.add_layer("conv1", 0.300, 0.003, 3211264);
  const auto left = g.add_layer("branch_a", 0.400, 0.004, 20000);
  const auto right = g.add_layer("branch_b", 0.100, 0.001, 10000);
  const auto merge = g.add_layer("concat_fc", 0.300, 0.001, 4000);
  g.add_edge(input, conv1);
  g.add_edge(conv1, left);
  g.add_edge(conv1, right);
  g.add_edge(left, merge);
  g.add_edge(right, merge);
  for (double mbit : {0.13, 1.1, 5.85, 18.88}) {
    const ip::plan p = ip::dsl(g, /*bandwidth in bytes/s=*/mbit * 1e6 / 8);
    std::printf("%6.2f Mbit/s: %zu layers on the device, ship %zu tensors, latency %.1f ms\n", mbit,
                p.device_layers.size(), p.shipped_layers.size(), 1e3 * p.latency);
  }
  return 0;
}
