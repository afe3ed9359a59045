/// @file
/// @brief cpu_backend: the reference inference backend, a network run on the CPU with xtensor
/// buffers and Eigen GEMMs. Runs any feasible device set; both parts of a split run the same
/// kernels, so a split frame equals the unsplit one bit for bit.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/device_set.hpp>
#include <incision/exec/layers/conv2d.hpp>
#include <incision/exec/layers/dense.hpp>
#include <incision/exec/layers/pooling.hpp>
#include <incision/exec/network.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Runs a @ref network. Every layer's output buffer is allocated once, at construction,
/// so frames in a steady state do not allocate (but for the cut lists' first use).
class cpu_backend {
 public:
  /// @throws invalid_argument if the network has no input.
  explicit cpu_backend(network net);

  [[nodiscard]] const partition::layer_graph& graph() const noexcept { return net_.graph(); }
  [[nodiscard]] const network& net() const noexcept { return net_; }
  [[nodiscard]] const shape_type& input_shape() const noexcept { return net_.input_shape(); }

  /// @brief See inference_backend. @throws invalid_argument for an infeasible or unsorted set,
  /// an unknown id, or an input of the wrong shape (nothing computed then).
  void run_device(device_set d, const tensor& input, tensor_list& cut);
  /// @brief See inference_backend. @throws invalid_argument as run_device, or when a tensor
  /// the server part needs is missing from @p cut or has the wrong shape.
  void run_server(device_set d, const tensor_list& cut, tensor_list& outputs);

  /// @brief Recomputes layer @p v from its operands' current values (for profiling: call after a
  /// full run). @throws out_of_range for an unknown id.
  void run_layer(partition::layer_id v);
  /// @brief The latest value of layer @p v. @throws out_of_range for an unknown id.
  [[nodiscard]] const tensor& value(partition::layer_id v) const {
    (void)graph().at(v);
    return values_[v];
  }

 private:
  network net_;
  std::vector<tensor> values_;
  std::vector<float> cols_;
  std::vector<char> on_device_;
  std::vector<const tensor*> operands_;

  void mark(device_set d);
  void compute(partition::layer_id v);
  void fill(tensor_list& list, bool device_side);
  [[noreturn]] static void bad(const std::string& why) {
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "cpu_backend: " + why)));
  }
};

static_assert(inference_backend<cpu_backend>);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline cpu_backend::cpu_backend(network net) : net_(std::move(net)) {
  (void)net_.input_shape();
  values_.reserve(net_.size());
  std::size_t cols = 0;
  for (partition::layer_id v = 0; v < net_.size(); ++v) {
    const op& o = net_.at(v);
    values_.push_back(tensor::from_shape(o.out_shape));
    values_.back().fill(0.0F);
    if (o.kind == op_kind::conv2d) {
      const shape_type& in = net_.at(graph().predecessors(v)[0]).out_shape;
      const std::size_t k = o.conv.kernel;
      cols = std::max(cols, in[1] / o.conv.groups * k * k * o.out_shape[2] * o.out_shape[3]);
    }
  }
  cols_.resize(cols);
  on_device_.resize(net_.size());
  operands_.reserve(net_.size());
}

inline void cpu_backend::mark(device_set d) { mark_device_set(graph(), d, on_device_, "cpu_backend"); }

inline void cpu_backend::fill(tensor_list& list, bool device_side) {
  // device side: device layers with a server successor or no successor; server side: server
  // layers without successors
  const partition::layer_graph& g = graph();
  const auto wanted = [&](partition::layer_id v) {
    if (static_cast<bool>(on_device_[v]) != device_side) return false;
    const auto& succ = g.successors(v);
    if (succ.empty()) return true;
    if (!device_side) return false;
    for (const partition::layer_id w : succ)
      if (!on_device_[w]) return true;
    return false;
  };
  std::size_t n = 0;
  for (partition::layer_id v = 0; v < g.size(); ++v) n += wanted(v) ? 1 : 0;
  list.resize(n);
  std::size_t i = 0;
  for (partition::layer_id v = 0; v < g.size(); ++v)
    if (wanted(v)) {
      list[i].id = v;
      resize(list[i].value, values_[v].shape());
      layers::copy(values_[v], list[i].value);
      ++i;
    }
}

inline void cpu_backend::run_device(device_set d, const tensor& input, tensor_list& cut) {
  mark(d);
  const shape_type& want = input_shape();
  if (input.dimension() != want.size() || !std::equal(want.begin(), want.end(), input.shape().begin()))
    bad("input of shape " + shape_string(input.shape()) + ", the network takes " + shape_string(want));
  layers::copy(input, values_[0]);
  for (const partition::layer_id v : graph().topological_order())
    if (on_device_[v] && v != 0) compute(v);
  fill(cut, true);
}

inline void cpu_backend::run_server(device_set d, const tensor_list& cut, tensor_list& outputs) {
  mark(d);
  const partition::layer_graph& g = graph();
  // check every needed tensor first (nothing computed on a bad cut)
  for (const partition::layer_id v : d) {
    bool shipped = false;
    for (const partition::layer_id w : g.successors(v)) shipped = shipped || !on_device_[w];
    if (!shipped) continue;
    const tensor* t = find(cut, v);
    if (t == nullptr) bad("the cut lacks the tensor of layer '" + g[v].name + "' (id " + std::to_string(v) + ")");
    const auto& s = values_[v].shape();
    if (t->dimension() != s.size() || !std::equal(s.begin(), s.end(), t->shape().begin()))
      bad("the tensor of layer '" + g[v].name + "' has shape " + shape_string(t->shape()) + ", expected " +
          shape_string(s));
  }
  for (const partition::layer_id v : d) {
    const tensor* t = find(cut, v);
    if (t != nullptr && t != &values_[v]) layers::copy(*t, values_[v]);
  }
  for (const partition::layer_id v : g.topological_order())
    if (!on_device_[v]) compute(v);
  fill(outputs, false);
}

inline void cpu_backend::run_layer(partition::layer_id v) {
  (void)graph().at(v);
  if (v != 0) compute(v);
}

inline void cpu_backend::compute(partition::layer_id v) {
  const op& o = net_.at(v);
  const auto& pred = graph().predecessors(v);
  tensor& y = values_[v];
  const tensor& x = values_[pred[0]];
  switch (o.kind) {
    case op_kind::input:
      break;
    case op_kind::conv2d:
      layers::conv2d(x, o.weight, o.bias, o.conv, y, cols_);
      break;
    case op_kind::relu:
      layers::relu(x, y);
      break;
    case op_kind::max_pool:
      layers::pool2d(x, o.pool, layers::pool_kind::max, y);
      break;
    case op_kind::avg_pool:
      layers::pool2d(x, o.pool, layers::pool_kind::average, y);
      break;
    case op_kind::global_avg_pool:
      layers::global_avg_pool(x, y);
      break;
    case op_kind::linear:
      layers::linear(x, o.weight, o.bias, y);
      break;
    case op_kind::flatten:
      layers::copy(x, y);
      break;
    case op_kind::add:
      layers::add(x, values_[pred[1]], y);
      break;
    case op_kind::concat: {
      operands_.clear();
      for (const partition::layer_id u : pred) operands_.push_back(&values_[u]);
      layers::concat(operands_, y);
      break;
    }
    case op_kind::softmax:
      layers::softmax(x, y);
      break;
  }
}

}  // namespace exec
INCISION_END_NAMESPACE
