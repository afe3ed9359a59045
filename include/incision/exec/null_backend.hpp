/// @file
/// @brief null_backend: an inference backend that does no compute, and round_robin_learner: a
/// learner that decides nothing. Together they measure the executor's own overhead (learner call,
/// bookkeeping, encode, link, decode) and prove its steady state allocation-free, with no kernel
/// time in the way.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <algorithm>
#include <cstddef>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief A chain of identity layers: every layer's output is the frame's input, so the cut is a
/// copy of the input and so is the network's output (split and unsplit runs agree, as the
/// backend contract asks). The profile values are fixed: each layer takes @p device_time on
/// the device, @p server_time on the server and outputs @p out_bytes (64 for a 16-float input).
/// Any input shape is accepted; feasible device sets are the prefixes {0, .., k}.
class null_backend {
 public:
  /// @throws invalid_argument if @p layers is 0 (or a time or size is negative or not finite).
  explicit null_backend(std::size_t layers, double device_time = 1e-4, double server_time = 1e-5,
                        double out_bytes = 64);

  [[nodiscard]] const partition::layer_graph& graph() const noexcept { return graph_; }
  /// @brief Sets @p cut to a copy of @p input named after the last device layer.
  /// @throws invalid_argument if @p d is not a non-empty prefix of the chain.
  void run_device(device_set d, const tensor& input, tensor_list& cut);
  /// @brief Sets @p outputs to a copy of the cut tensor named after the last layer (empty when
  /// @p d holds every layer). @throws invalid_argument for a bad @p d or a missing cut tensor.
  void run_server(device_set d, const tensor_list& cut, tensor_list& outputs);

 private:
  void check(device_set d, const char* where) const;
  partition::layer_graph graph_;
};

/// @brief Picks arms 0, 1, .., arms - 1, 0, .. in turn and ignores the delays it is told: the
/// cheapest possible learner for the online loop, visiting every candidate.
struct round_robin_learner {
  std::size_t arms = 1;
  std::size_t next = 0;
  std::size_t select(bool /*key_frame*/) noexcept { return next++ % arms; }
  void update(std::size_t /*arm*/, double /*delay*/) noexcept {}
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline null_backend::null_backend(std::size_t layers, double device_time, double server_time, double out_bytes) {
  if (layers == 0)
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "null_backend: needs at least one layer")));
  for (std::size_t i = 0; i < layers; ++i)
    (void)graph_.add_layer(i == 0 ? "input" : "identity" + std::to_string(i), device_time, server_time, out_bytes,
                           i == 0 ? "input" : "identity");
  for (std::size_t i = 1; i < layers; ++i)
    graph_.add_edge(static_cast<partition::layer_id>(i - 1), static_cast<partition::layer_id>(i));
}

inline void null_backend::check(device_set d, const char* where) const {
  bool prefix = !d.empty() && d.size() <= graph_.size();
  for (std::size_t i = 0; prefix && i < d.size(); ++i) prefix = d[i] == i;
  if (!prefix)
    INCISION_THROW(invalid_argument(incision::detail::message(
        "exec", std::string("null_backend::") + where + ": the device set must be layers 0..k of the " +
                    std::to_string(graph_.size()) + "-layer chain")));
}

inline void null_backend::run_device(device_set d, const tensor& input, tensor_list& cut) {
  check(d, "run_device");
  cut.resize(1);
  cut[0].id = d.back();
  resize(cut[0].value, input.shape());
  std::copy(input.data(), input.data() + input.size(), cut[0].value.data());
}

inline void null_backend::run_server(device_set d, const tensor_list& cut, tensor_list& outputs) {
  check(d, "run_server");
  if (d.size() == graph_.size()) {
    outputs.clear();
    return;
  }
  const tensor* x = find(cut, d.back());
  if (x == nullptr)
    INCISION_THROW(invalid_argument(incision::detail::message(
        "exec", "null_backend::run_server: the cut lacks the tensor of layer " + std::to_string(d.back()))));
  outputs.resize(1);
  outputs[0].id = static_cast<partition::layer_id>(graph_.size() - 1);
  resize(outputs[0].value, x->shape());
  std::copy(x->data(), x->data() + x->size(), outputs[0].value.data());
}

}  // namespace exec
INCISION_END_NAMESPACE
