// A backend without run_server must be rejected at the run_split entry point with a message that
// names the API and the missing member.
// expected-error: incision::exec::run_split: Backend must provide `run_server\(device_set, const tensor_list& cut, tensor_list& outputs\)`
#include <incision/exec/run_split.hpp>

namespace ie = incision::exec;

struct device_only_backend {
  incision::partition::layer_graph g;
  const incision::partition::layer_graph& graph() const { return g; }
  void run_device(ie::device_set, const ie::tensor&, ie::tensor_list&) {}
};

int main() {
  device_only_backend b;
  const auto out = ie::run_split(b, {}, ie::tensor());
  return static_cast<int>(out.size());
}
