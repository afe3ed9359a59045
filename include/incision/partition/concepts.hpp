/// @file
/// @brief Extension points of incision::partition: the cost oracle and the link model.
///
/// Semantic contract of a cost oracle (checked at run time, violations throw oracle_error):
/// every value is finite and >= 0; times are seconds, sizes are bytes; the oracle is pure for
/// the duration of one call into a partitioner; ids are the layer ids of the graph passed along.
///
/// Semantic contract of a link model: bandwidth() in bytes/second, > 0 (may be +infinity for a
/// free link); optional rtt() in seconds (>= 0, finite), added once per frame when at least one
/// layer runs on the server; optional download_bandwidth() in bytes/second (> 0, default
/// +infinity): the outputs of server-side layers without successors (the results) are downloaded
/// at that rate.
#pragma once

#include <incision/config.hpp>
#include <incision/partition/layer_graph.hpp>

#include <concepts>
#include <limits>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief The oracle can price a layer's compute on either side: `compute_time(layer_id, side)`.
template <class O>
concept has_compute_time = requires(const O& o, layer_id v, side s) {
  { o.compute_time(v, s) } -> std::convertible_to<double>;
};

/// @brief The oracle knows the size of a layer's output: `output_bytes(layer_id)`.
template <class O>
concept has_output_bytes = requires(const O& o, layer_id v) {
  { o.output_bytes(v) } -> std::convertible_to<double>;
};

/// @brief A cost oracle: copyable, prices compute on both sides and knows output sizes.
template <class O>
concept cost_oracle = std::copy_constructible<O> && has_compute_time<O> && has_output_bytes<O>;

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
/// Resolved link values (optional members defaulted).
struct link_values {
  double bandwidth = 1.0;
  double rtt = 0.0;
  double download_bandwidth = std::numeric_limits<double>::infinity();
};
template <class L>
link_values resolve_link(const L& l) {
  link_values v;
  v.bandwidth = static_cast<double>(l.bandwidth());
  if constexpr (has_rtt<L>) v.rtt = static_cast<double>(l.rtt());
  if constexpr (has_download_bandwidth<L>) v.download_bandwidth = static_cast<double>(l.download_bandwidth());
  return v;
}
}  // namespace detail

}  // namespace partition
INCISION_END_NAMESPACE

/// Static checks with API-qualified messages, used at the top of every partitioner entry point.
#define INCISION_PARTITION_CHECK_ORACLE(fn, Oracle)                                              \
  static_assert(::incision::partition::has_compute_time<Oracle>,                                \
                "incision::partition::" fn ": Oracle must provide `compute_time(layer_id, side) " \
                "const` returning seconds convertible to double");                               \
  static_assert(::incision::partition::has_output_bytes<Oracle>,                                \
                "incision::partition::" fn ": Oracle must provide `output_bytes(layer_id) const` " \
                "returning bytes convertible to double");                                        \
  static_assert(std::copy_constructible<Oracle>,                                                 \
                "incision::partition::" fn ": Oracle must be copy constructible")
#define INCISION_PARTITION_CHECK_LINK(fn, Link)                                                  \
  static_assert(::incision::partition::has_bandwidth<Link>,                                     \
                "incision::partition::" fn ": Link must provide `bandwidth() const` returning "  \
                "bytes/second convertible to double");                                           \
  static_assert(std::copy_constructible<Link>,                                                   \
                "incision::partition::" fn ": Link must be copy constructible")
