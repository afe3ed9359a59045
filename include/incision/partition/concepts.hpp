/// @file
/// @brief The cost oracle concept of incision::partition (the link model is in link.hpp).
///
/// Semantic contract of a cost oracle (checked at run time, violations throw oracle_error):
/// every value is finite and >= 0; times are seconds, sizes are bytes; the oracle is pure for
/// the duration of one call into a partitioner; ids are the layer ids of the graph passed along.
#pragma once

#include <incision/config.hpp>
#include <incision/partition/layer_graph.hpp>

#include <concepts>

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

}  // namespace partition
INCISION_END_NAMESPACE

/// Static check with an API-qualified message, used at the top of every partitioner entry point.
#define INCISION_PARTITION_CHECK_ORACLE(fn, Oracle)                     \
  static_assert(::incision::partition::has_compute_time<Oracle>,        \
                "incision::partition::" fn                              \
                ": Oracle must provide `compute_time(layer_id, side) "  \
                "const` returning seconds convertible to double");      \
  static_assert(::incision::partition::has_output_bytes<Oracle>,        \
                "incision::partition::" fn                              \
                ": Oracle must provide `output_bytes(layer_id) const` " \
                "returning bytes convertible to double");               \
  static_assert(std::copy_constructible<Oracle>, "incision::partition::" fn ": Oracle must be copy constructible")
