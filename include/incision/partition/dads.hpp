/// @file
/// @brief The DADS controller: DSL under light load, DSH under heavy load.
///
/// C. Hu, W. Bao, D. Wang, F. Liu, "Dynamic Adaptive DNN Surgery for Inference Acceleration on
/// the Edge", IEEE INFOCOM 2019, Algorithm 3: solve DSL; if its largest pipeline stage is below
/// the frame interval 1/Q the system is lightly loaded and the DSL plan is used; otherwise run
/// DSH, and if even DSH's largest stage misses 1/Q flag that the sampling rate must decrease.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/dsh.hpp>
#include <incision/partition/dsl.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>

#include <cmath>
#include <string>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief What the DADS controller decided.
struct dads_decision {
  plan chosen;                 ///< the plan to execute
  bool heavy_load = false;     ///< DSL's max stage >= 1/Q, so DSH was run
  bool decrease_rate = false;  ///< even the chosen plan's max stage >= 1/Q (ask for a lower Q)
};

/// @brief Runs the DADS controller for a sampling rate @p rate (frames/second, > 0).
template <class Oracle, class Link>
[[nodiscard]] dads_decision dads(const layer_graph& g, const Oracle& oracle, const Link& link, double rate,
                                 const dsh_options& opt = {});
/// @brief DADS with the profile stored in @p g and a link of @p bandwidth bytes/s.
[[nodiscard]] inline dads_decision dads(const layer_graph& g, double bandwidth, double rate) {
  return dads(g, g, simple_link(bandwidth), rate);
}

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Oracle, class Link>
dads_decision dads(const layer_graph& g, const Oracle& oracle, const Link& link, double rate, const dsh_options& opt) {
  INCISION_PARTITION_CHECK_ORACLE("dads", Oracle);
  INCISION_PARTITION_CHECK_LINK("dads", Link);
  if (!(rate > 0.0) || !std::isfinite(rate))
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "dads: rate (frames/second) must be finite and > 0, got " + std::to_string(rate))));
  const auto l = detail::resolve_link(link);
  dsl_solver s;
  s.assign(g, oracle);
  dads_decision d;
  const double interval = 1.0 / rate;
  d.chosen = s.solve(l);
  if (d.chosen.max_stage < interval) return d;
  d.heavy_load = true;
  d.chosen = detail::dsh_search(s, l, opt);
  d.decrease_rate = !(d.chosen.max_stage < interval);
  return d;
}

}  // namespace partition
INCISION_END_NAMESPACE
