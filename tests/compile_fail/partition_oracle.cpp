// An oracle without output_bytes() must be rejected at the dsl entry point with a message that
// names the API and the missing member.
// expected-error: incision::partition::dsl: Oracle must provide `output_bytes\(layer_id\) const`
#include <incision/partition.hpp>

namespace ip = incision::partition;

struct time_only_oracle {
  double compute_time(ip::layer_id, ip::side) const { return 1.0; }
};

int main() {
  ip::layer_graph g;
  g.add_layer("a", 1, 1, 1);
  const auto p = ip::dsl(g, time_only_oracle{}, ip::simple_link(1.0));
  return static_cast<int>(p.latency);
}
