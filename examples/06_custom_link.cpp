// A link model of your own: an uplink whose rate and round-trip time come from your own
// measurements (here fixed numbers), with a slower downlink for the result. Every partitioner
// takes it; the plan's latency must equal evaluate() of the same device set under the same link.
#include <incision/partition.hpp>

#include <cstdio>

namespace ip = incision::partition;

// [doc:link]
// Models incision::partition::link_model: copyable and bandwidth() in bytes/second (> 0);
// rtt() (seconds, >= 0) and download_bandwidth() (bytes/second, > 0) are optional members.
struct measured_link {
  double uplink_bits_per_s;
  double downlink_bits_per_s;
  double ping_s;

  double bandwidth() const { return uplink_bits_per_s / 8; }
  double download_bandwidth() const { return downlink_bits_per_s / 8; }
  double rtt() const { return ping_s; }
};
static_assert(ip::link_model<measured_link>);
// [doc:link]

int main() {
  ip::layer_graph g;
  const auto in = g.add_layer("input", 0.0, 0.0, 602112);
  const auto a = g.add_layer("features", 0.200, 0.002, 100352);
  const auto b = g.add_layer("classifier", 0.600, 0.001, 40000);  // a result worth downloading
  g.add_edge(in, a);
  g.add_edge(a, b);

  int failures = 0;
  for (const measured_link link : {measured_link{5.85e6, 20e6, 0.040}, measured_link{18.88e6, 2e6, 0.005}}) {
    // [doc:use]
    const ip::plan p = ip::dsl(g, g, link);  // the graph is its own oracle
    // [doc:use]
    const ip::plan check = ip::evaluate(g, g, link, p.device_layers);
    std::printf("up %5.2f Mbit/s, down %5.2f Mbit/s, rtt %2.0f ms: %zu layers on the device, %.1f ms\n",
                link.uplink_bits_per_s / 1e6, link.downlink_bits_per_s / 1e6, 1e3 * link.ping_s, p.device_layers.size(),
                1e3 * p.latency);
    failures += check.latency == p.latency ? 0 : 1;
  }
  return failures;
}
