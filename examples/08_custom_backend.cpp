// An inference backend of your own: a three-layer chain input -> scale -> offset that runs any
// feasible device set (a prefix of the chain). Every partitioner works on its graph, and the
// library's run_split must give the same output as the unsplit run for every cut.
#include <incision/exec.hpp>

#include <cstdio>

namespace ie = incision::exec;
namespace ip = incision::partition;

// [doc:backend]
// Models incision::exec::inference_backend: graph(), run_device(d, input, cut) and
// run_server(d, cut, outputs). The tensor of layer v is v's output; a cut holds the tensors of
// device layers with a successor on the server (or none at all), ascending; the outputs are the
// server layers without successors. Bad arguments throw incision::invalid_argument.
class affine_chain {
 public:
  affine_chain() {
    (void)g_.add_layer("input", 0, 0, 4 * 16);
    (void)g_.add_layer("scale", 2e-3, 1e-4, 4 * 16);
    (void)g_.add_layer("offset", 1e-3, 1e-4, 4 * 16);
    g_.add_edge(0, 1);
    g_.add_edge(1, 2);
  }
  const ip::layer_graph& graph() const { return g_; }

  void run_device(ie::device_set d, const ie::tensor& x, ie::tensor_list& cut) {
    if (d.empty() || d[0] != 0 || d.back() + 1 != d.size())
      throw incision::invalid_argument("[incision.exec] affine_chain runs prefixes only");
    ie::tensor t = x;
    for (ip::layer_id v = 1; v < d.size(); ++v) t = layer(v, t);
    cut.assign(1, ie::named_tensor{static_cast<ip::layer_id>(d.size() - 1), std::move(t)});
  }
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& out) {
    out.clear();
    if (d.size() == g_.size()) return;  // nothing left for the server
    const ie::tensor* t = ie::find(cut, static_cast<ip::layer_id>(d.size() - 1));
    if (t == nullptr) throw incision::invalid_argument("[incision.exec] the cut lacks the last device layer");
    ie::tensor y = *t;
    for (ip::layer_id v = static_cast<ip::layer_id>(d.size()); v < g_.size(); ++v) y = layer(v, y);
    out.push_back({static_cast<ip::layer_id>(g_.size() - 1), std::move(y)});
  }

 private:
  static ie::tensor layer(ip::layer_id v, const ie::tensor& t) {
    return v == 1 ? ie::tensor(3.0F * t) : ie::tensor(t + 1.0F);
  }
  ip::layer_graph g_;
};
static_assert(ie::inference_backend<affine_chain>);
// [doc:backend]

int main() {
  affine_chain backend;
  const ie::tensor x = ie::random_tensor({1, 16}, 3);
  // [doc:use]
  const auto whole = ie::run(backend, x);                          // all on the device
  const ip::plan p = ip::dsl(backend.graph(), /*bandwidth=*/1e6);  // where to cut
  const auto split = ie::run_split(backend, p.device_layers, x);   // device, ship, server
  // [doc:use]
  bool equal = split[0].value == whole[0].value;
  for (const auto& d : ie::chain_candidates(backend.graph()))
    equal = equal && ie::run_split(backend, d, x)[0].value == whole[0].value;
  std::printf("dsl keeps %zu of 3 layers on the device; every cut equals the unsplit run: %s\n", p.device_layers.size(),
              equal ? "yes" : "NO");
  return equal ? 0 : 1;
}
