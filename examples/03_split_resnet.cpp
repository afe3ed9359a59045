// Network -> profile -> optimal plan -> split run: the ResNet-style example network is timed
// layer by layer on this machine (the device is taken to be 50 times slower, a small board; the
// server as fast as this machine), DSL picks the cut for a few uplink rates, and each split run
// gives the same output as running everything on the device.
#include <incision/exec.hpp>
#include <incision/partition/dsl.hpp>

#include <cstdio>
#include <cstring>

namespace ie = incision::exec;
namespace ip = incision::partition;

int main() {
  ie::cpu_backend net(ie::example_network("resnet", /*seed=*/1));
  const auto g = ie::profile(net, ie::random_tensor(net.input_shape(), 1), {.server_speedup = 50});
  ip::layer_graph device_50x = g;
  for (ip::layer_id v = 0; v < g.size(); ++v)
    device_50x.set_costs(v, 50 * g[v].device_time, 50 * g[v].server_time, g[v].out_bytes);

  const ie::tensor x = ie::random_tensor(net.input_shape(), 2);
  const auto whole = ie::run(net, x);
  bool all_equal = true;
  for (const double bandwidth : {1e5, 1e6, 1e7, 1e8}) {
    const auto plan = ip::dsl(device_50x, bandwidth);
    std::printf("%6.0e B/s: %2zu of %zu layers on the device, ships", bandwidth, plan.device_layers.size(), g.size());
    for (const ip::layer_id v : plan.shipped_layers) std::printf(" '%s'", g[v].name.c_str());
    std::printf(" (%.0f bytes); predicted %.2f ms (device %.2f, upload %.2f, server %.2f)\n", plan.shipped_bytes,
                plan.latency * 1e3, plan.device_time * 1e3, plan.upload_time * 1e3, plan.server_time * 1e3);
    const auto split = ie::run_split(net, plan.device_layers, x);
    all_equal = all_equal && std::memcmp(split[0].value.data(), whole[0].value.data(), 4 * whole[0].value.size()) == 0;
  }
  std::printf("class probabilities:");
  for (const float p : whole[0].value) std::printf(" %.4f", static_cast<double>(p));
  std::printf("\nevery split output %s the unsplit output\n", all_equal ? "equals" : "DIFFERS FROM");
  return all_equal ? 0 : 1;
}
