// A program outside the library that uses it the way a user would.
#include <incision/incision.hpp>

#include <cstdio>

int main() {
  namespace ip = incision::partition;
  ip::layer_graph g;
  const auto input = g.add_layer("input", 0.0, 0.0, 1000.0);
  const auto conv = g.add_layer("conv", 0.5, 0.01, 10.0);
  g.add_edge(input, conv);
  const ip::plan slow = ip::dsl(g, 100.0);  // 10 s to ship the input: stay on the device
  const ip::plan fast = ip::dsl(g, 1.0e6);  // 1 ms to ship it: offload conv
  incision::bandit::linucb<2> policy(2, 1.0);
  const Eigen::Matrix2d arms = Eigen::Matrix2d::Identity();
  policy.update(Eigen::Vector2d(1, 0), 1.0);
  std::printf("incision %d.%d.%d: %zu/%zu device layers, LinUCB picks %zu\n", INCISION_VERSION_MAJOR,
              INCISION_VERSION_MINOR, INCISION_VERSION_PATCH, slow.device_layers.size(), fast.device_layers.size(),
              policy.select(arms));
  return slow.device_layers.size() == 2 && fast.device_layers.size() == 1 ? 0 : 1;
}
