/// @file
/// @brief simple_link: the ready-made link model (uplink bandwidth, optional RTT and download).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <cmath>
#include <limits>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief A link with a fixed uplink rate, an optional per-frame RTT and an optional downlink
/// rate for the result. Units: bytes/second and seconds.
class simple_link {
 public:
  /// @throws invalid_argument unless bandwidth > 0 (inf allowed), 0 <= rtt < inf,
  /// download_bandwidth > 0 (inf = free download, the default).
  explicit simple_link(double bandwidth, double rtt = 0.0,
                       double download_bandwidth = std::numeric_limits<double>::infinity())
      : bandwidth_(bandwidth), rtt_(rtt), download_(download_bandwidth) {
    check_rate("bandwidth", bandwidth);
    check_rate("download_bandwidth", download_bandwidth);
    if (!(rtt >= 0.0) || !std::isfinite(rtt))
      INCISION_THROW(invalid_argument(incision::detail::message(
          "partition", "rtt must be finite and >= 0, got " + std::to_string(rtt))));
  }
  [[nodiscard]] double bandwidth() const noexcept { return bandwidth_; }
  [[nodiscard]] double rtt() const noexcept { return rtt_; }
  [[nodiscard]] double download_bandwidth() const noexcept { return download_; }

 private:
  double bandwidth_, rtt_, download_;
  static void check_rate(const char* what, double x) {
    if (!(x > 0.0))
      INCISION_THROW(invalid_argument(incision::detail::message(
          "partition", std::string(what) + " must be > 0 bytes/second, got " + std::to_string(x))));
  }
};

}  // namespace partition
INCISION_END_NAMESPACE
