// A cost oracle of your own: price each layer from its multiply-accumulates on two processors of
// known throughput (a roofline without the memory roof), and cut the graph with it. The graph's
// own profile is not used; the same numbers given as a table_oracle must give the same plan.
#include <incision/partition.hpp>

#include <cstdio>
#include <vector>

namespace ip = incision::partition;

// [doc:oracle]
// Models incision::partition::cost_oracle: copyable, compute_time(layer, side) in seconds and
// output_bytes(layer) in bytes; every value finite and >= 0, the same for the whole call.
struct mac_oracle {
  const ip::layer_graph* graph;  // reads each layer's MACs and output size
  double device_macs_per_s;      // e.g. a phone's CPU
  double server_macs_per_s;      // e.g. an edge GPU

  double compute_time(ip::layer_id v, ip::side s) const {
    const double rate = s == ip::side::device ? device_macs_per_s : server_macs_per_s;
    return (*graph)[v].macs / rate;
  }
  double output_bytes(ip::layer_id v) const { return (*graph)[v].out_bytes; }
};
static_assert(ip::cost_oracle<mac_oracle>);
// [doc:oracle]

int main() {
  ip::layer_graph g;  // times left at 0: the oracle prices the layers; MACs and sizes are metadata
  const auto in = g.add_layer("input", 0, 0, 150528, "input", 0);
  const auto c1 = g.add_layer("conv1", 0, 0, 802816, "conv", 118e6);
  const auto c2 = g.add_layer("conv2", 0, 0, 401408, "conv", 231e6);
  const auto c3 = g.add_layer("conv3", 0, 0, 50176, "conv", 462e6);
  const auto fc = g.add_layer("fc", 0, 0, 4000, "linear", 2e6);
  g.add_edge(in, c1);
  g.add_edge(c1, c2);
  g.add_edge(c2, c3);
  g.add_edge(c3, fc);

  // [doc:use]
  const mac_oracle oracle{&g, /*device=*/5e9, /*server=*/500e9};
  const ip::simple_link link(/*bandwidth=*/1e6, /*rtt=*/0.01);  // 8 Mbit/s, 10 ms
  const ip::plan p = ip::dsl(g, oracle, link);
  // [doc:use]

  // The same costs as tables, priced by the library's own oracle: same plan, same latency.
  std::vector<double> dev, srv, bytes;
  for (ip::layer_id v = 0; v < g.size(); ++v) {
    dev.push_back(oracle.compute_time(v, ip::side::device));
    srv.push_back(oracle.compute_time(v, ip::side::server));
    bytes.push_back(oracle.output_bytes(v));
  }
  const ip::plan q = ip::dsl(g, ip::table_oracle(dev, srv, bytes), link);
  std::printf("device layers:");
  for (auto v : p.device_layers) std::printf(" %s", g[v].name.c_str());
  std::printf("; latency %.1f ms (table oracle: %.1f ms)\n", 1e3 * p.latency, 1e3 * q.latency);
  return p.device_layers == q.device_layers && p.latency == q.latency ? 0 : 1;
}
