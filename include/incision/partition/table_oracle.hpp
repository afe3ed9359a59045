/// @file
/// @brief table_oracle: a ready-made cost oracle over precomputed per-layer tables.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/layer_graph.hpp>

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Cost oracle backed by three tables indexed by layer id: device seconds, server
/// seconds, output bytes. Use it to re-price a graph (another device, a loaded server)
/// without touching the graph.
class table_oracle {
 public:
  /// @throws invalid_argument when the tables differ in length or hold a negative/non-finite value.
  table_oracle(std::span<const double> device_time, std::span<const double> server_time,
               std::span<const double> out_bytes)
      : dev_(device_time.begin(), device_time.end()),
        srv_(server_time.begin(), server_time.end()),
        bytes_(out_bytes.begin(), out_bytes.end()) {
    if (dev_.size() != srv_.size() || dev_.size() != bytes_.size())
      INCISION_THROW(invalid_argument(
          incision::detail::message("partition", "table_oracle: the three tables must have the same length")));
    for (std::size_t i = 0; i < dev_.size(); ++i)
      if (!ok(dev_[i]) || !ok(srv_[i]) || !ok(bytes_[i]))
        INCISION_THROW(invalid_argument(incision::detail::message(
            "partition", "table_oracle: entry " + std::to_string(i) + " is negative or not finite")));
  }
  /// @brief Copies the profile stored in @p g.
  static table_oracle from_graph(const layer_graph& g) {
    return table_oracle(g.device_times(), g.server_times(), g.out_bytes());
  }
  [[nodiscard]] std::size_t size() const noexcept { return dev_.size(); }
  [[nodiscard]] double compute_time(layer_id v, side s) const noexcept { return s == side::device ? dev_[v] : srv_[v]; }
  [[nodiscard]] double output_bytes(layer_id v) const noexcept { return bytes_[v]; }

 private:
  std::vector<double> dev_, srv_, bytes_;
  static bool ok(double x) noexcept { return std::isfinite(x) && x >= 0.0; }
};

}  // namespace partition
INCISION_END_NAMESPACE
