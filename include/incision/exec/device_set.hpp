/// @file
/// @brief Device-set arithmetic every backend needs: checking that a device set is feasible,
/// and which layers' tensors cross its cut or leave the server part.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/exec/concepts.hpp>
#include <incision/partition/layer_graph.hpp>

#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace exec {
namespace detail {
[[noreturn]] inline void device_set_error(const std::string& who, const std::string& why) {
  INCISION_THROW(invalid_argument(incision::detail::message("exec", who + ": " + why)));
}
}  // namespace detail

/// @brief Marks @p d in @p on (resized to g.size(): 1 on the device, 0 on the server) and checks
/// that @p d is a feasible device set of @p g: known ids in ascending order, every input layer,
/// closed under predecessors.
/// @param who names the caller in the message (e.g. "cpu_backend::run_device").
/// @throws invalid_argument naming the offending layer (and its missing predecessor).
inline void mark_device_set(const partition::layer_graph& g, device_set d, std::vector<char>& on,
                            const std::string& who) {
  const auto bad = [&who](const std::string& why) { detail::device_set_error(who, why); };
  const std::size_t n = g.size();
  on.assign(n, 0);
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] >= n)
      bad("device set names layer " + std::to_string(d[i]) + ", out of range (the graph has " + std::to_string(n) +
          " layers)");
    if (i > 0 && d[i] <= d[i - 1]) bad("device layers must be ascending and distinct");
    on[d[i]] = 1;
  }
  for (partition::layer_id v = 0; v < n; ++v) {
    if (g.predecessors(v).empty() && !on[v])
      bad("the device set misses input layer " + std::to_string(v) + " '" + g[v].name +
          "': the input layer must be on the device");
    if (!on[v]) continue;
    for (const partition::layer_id p : g.predecessors(v))
      if (!on[p])
        bad("the device set is not closed under predecessors: layer " + std::to_string(v) + " '" + g[v].name +
            "' is on the device but its input " + std::to_string(p) + " '" + g[p].name + "' is not");
  }
}

/// @brief The layers of @p d (marked in @p on) whose tensors the device hands on: a successor
/// outside the set, or no successor at all (a network output computed on the device); ascending.
inline void crossing_layers(const partition::layer_graph& g, device_set d, const std::vector<char>& on,
                            std::vector<partition::layer_id>& out) {
  out.clear();
  for (const partition::layer_id v : d) {
    const auto& s = g.successors(v);
    bool crosses = s.empty();
    for (const partition::layer_id w : s) crosses = crosses || !on[w];
    if (crosses) out.push_back(v);
  }
}

/// @brief The layers outside the set marked in @p on without successors: the server part's
/// outputs, ascending.
inline void server_output_layers(const partition::layer_graph& g, const std::vector<char>& on,
                                 std::vector<partition::layer_id>& out) {
  out.clear();
  for (partition::layer_id v = 0; v < g.size(); ++v)
    if (!on[v] && g.successors(v).empty()) out.push_back(v);
}

}  // namespace exec
INCISION_END_NAMESPACE
