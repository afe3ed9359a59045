// A link without the offload member (here the remote_server style `run_server`, a backend's
// member, not a link's) must be rejected at the online_loop entry point with a message that
// names the API and the missing member.
// expected-error: incision::exec::online_loop: Link must provide `offload\(const offload_request&, tensor_list& outputs\)` returning `offload_result`
#include <incision/exec/online_loop.hpp>

namespace ie = incision::exec;

struct tiny_backend {
  incision::partition::layer_graph g;
  const incision::partition::layer_graph& graph() const { return g; }
  void run_device(ie::device_set, const ie::tensor&, ie::tensor_list&) {}
  void run_server(ie::device_set, const ie::tensor_list&, ie::tensor_list&) {}
};

struct not_a_link {
  void run_server(ie::device_set, const ie::tensor_list&, ie::tensor_list&) {}
};

struct first_arm {
  std::size_t select(bool) { return 0; }
  void update(std::size_t, double) {}
};

int main() {
  tiny_backend device;
  not_a_link link;
  first_arm learner;
  ie::online_loop<first_arm, tiny_backend, tiny_backend, not_a_link> loop(learner, device, link, {{0}}, device.graph());
  return static_cast<int>(loop.frames());
}
