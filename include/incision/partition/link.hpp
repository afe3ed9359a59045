/// @file
/// @brief The link between device and server, in one place: the link concept, the resolved and
/// validated link values every partitioner works with, and simple_link, the ready-made model.
///
/// Semantic contract of a link model: bandwidth() in bytes/second, > 0 (may be +infinity for a
/// free link); optional rtt() in seconds (>= 0, finite), added once per frame when at least one
/// layer runs on the server; optional download_bandwidth() in bytes/second (> 0, default
/// +infinity): the outputs of server-side layers without successors (the results) are downloaded
/// at that rate. A link is read and validated once per call (detail::resolve_link); simple_link is
/// validated when it is constructed and not again.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <cmath>
#include <concepts>
#include <limits>
#include <string>
#include <type_traits>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief The link reports its uplink rate: `bandwidth()` in bytes/second.
template <class L>
concept has_bandwidth = requires(const L& l) {
  { l.bandwidth() } -> std::convertible_to<double>;
};
/// @brief Optional: a constant per-frame round-trip time `rtt()` in seconds.
template <class L>
concept has_rtt = requires(const L& l) {
  { l.rtt() } -> std::convertible_to<double>;
};
/// @brief Optional: the downlink rate `download_bandwidth()` in bytes/second.
template <class L>
concept has_download_bandwidth = requires(const L& l) {
  { l.download_bandwidth() } -> std::convertible_to<double>;
};
/// @brief A link model: copyable and reports its bandwidth (RTT and download are optional).
template <class L>
concept link_model = std::copy_constructible<L> && has_bandwidth<L>;

namespace detail {

/// Link values with the optional members defaulted.
struct link_values {
  double bandwidth = 1.0;
  double rtt = 0.0;
  double download_bandwidth = std::numeric_limits<double>::infinity();
};

/// The one validation of a link; the message names the field and its value.
inline void check_link(const link_values& l) {
  const auto fail = [](const char* what, double x) {
    INCISION_THROW(
        invalid_argument(incision::detail::message("partition", std::string(what) + ", got " + std::to_string(x))));
  };
  if (!(l.bandwidth > 0.0)) fail("bandwidth must be > 0 bytes/second", l.bandwidth);
  if (!(l.download_bandwidth > 0.0)) fail("download_bandwidth must be > 0 bytes/second", l.download_bandwidth);
  if (!(l.rtt >= 0.0) || !std::isfinite(l.rtt)) fail("rtt must be finite and >= 0", l.rtt);
}

/// Transfer time of @p bytes at @p rate (an empty output costs nothing, even at rate 0 or inf).
inline double transfer(double bytes, double rate) noexcept { return bytes == 0.0 ? 0.0 : bytes / rate; }

}  // namespace detail

/// @brief A link with a fixed uplink rate, an optional per-frame RTT and an optional downlink
/// rate for the result. Units: bytes/second and seconds.
class simple_link {
 public:
  /// @throws invalid_argument unless bandwidth > 0 (inf allowed), 0 <= rtt < inf,
  /// download_bandwidth > 0 (inf = free download, the default).
  explicit simple_link(double bandwidth, double rtt = 0.0,
                       double download_bandwidth = std::numeric_limits<double>::infinity())
      : v_{bandwidth, rtt, download_bandwidth} {
    detail::check_link(v_);
  }
  [[nodiscard]] double bandwidth() const noexcept { return v_.bandwidth; }
  [[nodiscard]] double rtt() const noexcept { return v_.rtt; }
  [[nodiscard]] double download_bandwidth() const noexcept { return v_.download_bandwidth; }
  /// @brief The values, validated at construction.
  [[nodiscard]] const detail::link_values& values() const noexcept { return v_; }

 private:
  detail::link_values v_;
};

namespace detail {

/// The values of @p l, optional members defaulted, unchecked.
template <class L>
link_values read_link(const L& l) {
  if constexpr (std::is_same_v<L, simple_link>) {
    return l.values();
  } else {
    link_values v;
    v.bandwidth = static_cast<double>(l.bandwidth());
    if constexpr (has_rtt<L>) v.rtt = static_cast<double>(l.rtt());
    if constexpr (has_download_bandwidth<L>) v.download_bandwidth = static_cast<double>(l.download_bandwidth());
    return v;
  }
}

/// Reads @p l and validates it; a simple_link was validated when it was made.
template <class L>
link_values resolve_link(const L& l) {
  link_values v = read_link(l);
  if constexpr (!std::is_same_v<L, simple_link>) check_link(v);
  return v;
}

/// resolve_link() with @p bandwidth in place of the link's own (bandwidth_map sweeps it).
template <class L>
link_values resolve_link_at(const L& l, double bandwidth) {
  link_values v = read_link(l);
  v.bandwidth = bandwidth;
  if (!std::is_same_v<L, simple_link> || !(bandwidth > 0.0)) check_link(v);
  return v;
}

}  // namespace detail
}  // namespace partition
INCISION_END_NAMESPACE

/// Static check with an API-qualified message, used at the top of every partitioner entry point.
#define INCISION_PARTITION_CHECK_LINK(fn, Link)                                                                  \
  static_assert(::incision::partition::has_bandwidth<Link>, "incision::partition::" fn                           \
                                                            ": Link must provide `bandwidth() const` returning " \
                                                            "bytes/second convertible to double");               \
  static_assert(std::copy_constructible<Link>, "incision::partition::" fn ": Link must be copy constructible")
