// A link without bandwidth() must be rejected at the dsh entry point with a readable message.
// expected-error: incision::partition::dsh: Link must provide `bandwidth\(\) const`
#include <incision/partition.hpp>

namespace ip = incision::partition;

struct no_bandwidth_link {
  double rtt() const { return 0.01; }
};

int main() {
  ip::layer_graph g;
  g.add_layer("a", 1, 1, 1);
  const auto p = ip::dsh(g, g, no_bandwidth_link{});
  return static_cast<int>(p.latency);
}
