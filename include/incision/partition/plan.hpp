/// @file
/// @brief plan: the result of every partitioner, mapped back to real layer ids, with its
/// predicted times (how they are computed: pricing.hpp).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/layer_graph.hpp>

#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief A partition of the layers between device and server, with its predicted times.
struct plan {
  incision::status status = incision::status::ok;
  std::vector<side> placement;           ///< per layer id
  std::vector<layer_id> device_layers;   ///< ascending ids
  std::vector<layer_id> server_layers;   ///< ascending ids
  std::vector<layer_id> shipped_layers;  ///< device layers whose output is uploaded (each once)
  double shipped_bytes = 0.0;
  double device_time = 0.0;
  double upload_time = 0.0;
  double server_time = 0.0;
  double download_time = 0.0;
  double rtt = 0.0;
  double latency = 0.0;
  double max_stage = 0.0;

  [[nodiscard]] bool on_device(layer_id v) const noexcept { return placement[v] == side::device; }
  /// @brief Every field equal, exactly (the same construction and arithmetic give the same bits).
  friend bool operator==(const plan&, const plan&) = default;
};

}  // namespace partition
INCISION_END_NAMESPACE
