/// @file
/// @brief presplit_backend: the inference-backend adaptor for runtimes that cannot run
/// sub-graphs, only fixed pieces exported ahead of time (a head and a tail model per chain cut).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Serves chain cuts from pre-split parts.
///
/// The graph must be a chain; with its layers in topological order o_1 .. o_n, cut k (k = 1..n
/// device layers) has a head computing o_k's output from the input and, for k < n, a tail
/// computing the network output from o_k's output. Only prefix device sets are accepted.
class presplit_backend {
 public:
  /// @brief A piece: writes its output into the second argument (its memory may be reused).
  using part = std::function<void(const tensor& in, tensor& out)>;

  /// @param heads n heads (head k-1 for cut k); @param tails n - 1 tails (tail k-1 for cut k).
  /// @throws invalid_argument if @p g is not a chain, the counts differ, or a part is empty.
  presplit_backend(partition::layer_graph g, std::vector<part> heads, std::vector<part> tails);

  [[nodiscard]] const partition::layer_graph& graph() const noexcept { return g_; }
  /// @brief Runs head k. @throws invalid_argument unless @p d is a prefix of the chain.
  void run_device(device_set d, const tensor& input, tensor_list& cut);
  /// @brief Runs tail k on o_k's tensor from @p cut (nothing for k = n).
  /// @throws invalid_argument unless @p d is a prefix, or if the tensor of o_k is missing.
  void run_server(device_set d, const tensor_list& cut, tensor_list& outputs);

 private:
  partition::layer_graph g_;
  std::vector<part> heads_, tails_;
  std::vector<partition::layer_id> order_;
  std::vector<std::size_t> rank_;  // position of each layer in order_

  [[nodiscard]] std::size_t prefix_length(device_set d) const;
};

static_assert(inference_backend<presplit_backend>);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline presplit_backend::presplit_backend(partition::layer_graph g, std::vector<part> heads, std::vector<part> tails)
    : g_(std::move(g)), heads_(std::move(heads)), tails_(std::move(tails)) {
  const auto bad = [](const std::string& why) {
    INCISION_THROW(invalid_argument(incision::detail::message("exec", "presplit_backend: " + why)));
  };
  if (g_.empty() || !g_.is_chain()) bad("the graph must be a non-empty chain");
  if (heads_.size() != g_.size() || tails_.size() + 1 != g_.size())
    bad("need one head per layer and one tail per layer but the last (" + std::to_string(g_.size()) + " and " +
        std::to_string(g_.size() - 1) + "), got " + std::to_string(heads_.size()) + " and " +
        std::to_string(tails_.size()));
  for (const auto& p : heads_)
    if (!p) bad("an empty head");
  for (const auto& p : tails_)
    if (!p) bad("an empty tail");
  order_ = g_.topological_order();
  rank_.resize(g_.size());
  for (std::size_t i = 0; i < order_.size(); ++i) rank_[order_[i]] = i;
}

inline std::size_t presplit_backend::prefix_length(device_set d) const {
  // a prefix of k layers: k distinct ids whose ranks are all < k
  const std::size_t k = d.size();
  bool ok = k >= 1 && k <= order_.size();
  for (std::size_t i = 0; ok && i < k; ++i) ok = d[i] < g_.size() && rank_[d[i]] < k && (i == 0 || d[i] > d[i - 1]);
  if (!ok)
    INCISION_THROW(invalid_argument(incision::detail::message(
        "exec",
        "presplit_backend: the device set must be a non-empty prefix of the chain (ascending ids); "
        "pre-split parts serve chain cuts only")));
  return k;
}

inline void presplit_backend::run_device(device_set d, const tensor& input, tensor_list& cut) {
  const std::size_t k = prefix_length(d);
  cut.resize(1);
  cut[0].id = order_[k - 1];
  heads_[k - 1](input, cut[0].value);
}

inline void presplit_backend::run_server(device_set d, const tensor_list& cut, tensor_list& outputs) {
  const std::size_t k = prefix_length(d);
  if (k == order_.size()) {
    outputs.clear();
    return;
  }
  const tensor* t = find(cut, order_[k - 1]);
  if (t == nullptr)
    INCISION_THROW(invalid_argument(incision::detail::message(
        "exec", "presplit_backend: the cut lacks the tensor of layer " + std::to_string(order_[k - 1]))));
  outputs.resize(1);
  outputs[0].id = order_.back();
  tails_[k - 1](*t, outputs[0].value);
}

}  // namespace exec
INCISION_END_NAMESPACE
