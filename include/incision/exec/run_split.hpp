/// @file
/// @brief run and run_split: one frame through any inference backend, unsplit or at a device set.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/exec/tensor.hpp>
#include <incision/partition/layer_graph.hpp>

#include <algorithm>
#include <initializer_list>
#include <numeric>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {

/// @brief Every layer id of @p g, ascending: the device set of an unsplit run.
[[nodiscard]] inline std::vector<partition::layer_id> all_layers(const partition::layer_graph& g) {
  std::vector<partition::layer_id> ids(g.size());
  std::iota(ids.begin(), ids.end(), partition::layer_id{0});
  return ids;
}

/// @brief The network outputs of a frame: the successor-less tensors of the device's cut list
/// and of the server's output list, into @p outputs (ascending ids; memory reused).
void collect_outputs(const partition::layer_graph& g, const tensor_list& cut, const tensor_list& server,
                     tensor_list& outputs);

/// @brief Runs @p input through @p backend with the device set @p d: the device part, then the
/// server part on the tensors crossing the cut (no serialisation). Returns the network outputs.
/// @throws what the backend throws (invalid_argument for an infeasible set or a wrong shape).
template <class Backend>
[[nodiscard]] tensor_list run_split(Backend& backend, device_set d, const tensor& input);

/// @brief The unsplit run (every layer on the device). Returns the network outputs.
template <class Backend>
[[nodiscard]] tensor_list run(Backend& backend, const tensor& input);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void collect_outputs(const partition::layer_graph& g, const tensor_list& cut, const tensor_list& server,
                            tensor_list& outputs) {
  std::size_t n = 0;
  for (const auto* list : {&cut, &server})
    for (const named_tensor& t : *list) n += g.successors(t.id).empty() ? 1 : 0;
  outputs.resize(n);
  std::size_t i = 0;
  for (const auto* list : {&cut, &server})
    for (const named_tensor& t : *list)
      if (g.successors(t.id).empty()) {
        outputs[i].id = t.id;
        resize(outputs[i].value, t.value.shape());
        std::copy(t.value.begin(), t.value.end(), outputs[i].value.begin());
        ++i;
      }
  std::sort(outputs.begin(), outputs.end(), [](const named_tensor& a, const named_tensor& b) { return a.id < b.id; });
}

template <class Backend>
tensor_list run_split(Backend& backend, device_set d, const tensor& input) {
  INCISION_EXEC_CHECK_BACKEND("run_split", Backend);
  tensor_list cut, server, outputs;
  backend.run_device(d, input, cut);
  backend.run_server(d, cut, server);
  collect_outputs(backend.graph(), cut, server, outputs);
  return outputs;
}

template <class Backend>
tensor_list run(Backend& backend, const tensor& input) {
  INCISION_EXEC_CHECK_BACKEND("run", Backend);
  const auto all = all_layers(backend.graph());
  tensor_list cut, none, outputs;
  backend.run_device(all, input, cut);
  collect_outputs(backend.graph(), cut, none, outputs);
  return outputs;
}

}  // namespace exec
INCISION_END_NAMESPACE
