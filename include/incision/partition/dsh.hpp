/// @file
/// @brief DSH: throughput-oriented partition (minimise the largest pipeline stage) by
/// reweighting the three cost classes and re-solving DSL, coarse to fine.
///
/// C. Hu, W. Bao, D. Wang, F. Liu, "Dynamic Adaptive DNN Surgery for Inference Acceleration on
/// the Edge", IEEE INFOCOM 2019 (DADS), Algorithm 2 / Theorem 1 (3-approximation of ECDI-H).
///
/// Guarantee (DADS Theorem 1's argument, counted per stage): the result's max stage is at most
/// k times the optimum, k = the number of pipeline stages that can be nonzero: 3 with a free
/// download (the paper's model), 4 with a finite download bandwidth. Proof: the unweighted
/// point is evaluated, so max_stage(DSH) <= max_stage(DSL) <= latency(DSL) - rtt <= latency(opt)
/// - rtt <= k * max_stage(opt). The 4 is reached: a 6-layer case in tests/partition/test_dsh.cpp
/// gives 3.9998.
///
/// Deviations from Algorithm 2 (named in docs/partition.md):
///  - the (alpha, gamma) grid is log-spaced and capped (`grid` points per axis, at most
///    dsh_options::max_grid, range [1/R, R] with R = min(max_ratio, total compute / smallest
///    positive transfer time)), instead of a linear grid from 0 whose size explodes when a
///    transfer time is tiny; at most levels * grid^2 + 1 min-cuts in all;
///  - the unweighted point alpha = gamma = 1 (plain DSL) is always evaluated first, which is what
///    the guarantee rests on; all-device is also evaluated;
///  - each refinement level shrinks the range around the best point by the grid step, for
///    `levels` levels (at most dsh_options::max_levels) or until the best max stage improves by
///    less than `tolerance` (relative).
/// Every candidate is priced with the unscaled times; ties keep the earlier (lower latency) plan.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/dsl.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>
#include <incision/partition/pricing.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Search parameters of DSH.
struct dsh_options {
  static constexpr int max_grid = 64;    ///< cap of `grid`: 4,096 min-cuts per level
  static constexpr int max_levels = 16;  ///< cap of `levels`
  int grid = 7;                          ///< points per axis and level, in [2, max_grid]
  int levels = 4;                        ///< refinement levels, in [1, max_levels]
  double max_ratio = 1e6;                ///< cap of the weight range [1/R, R]
  double tolerance = 1e-9;               ///< stop when the relative improvement of a level is below this
};

/// @brief DSH on a prepared solver (reused buffers). Returns the best plan found.
inline plan dsh(dsl_solver& solver, const detail::link_values& link, const dsh_options& opt = {});

/// @brief Throughput-oriented plan (DSH) for @p g priced by @p oracle over @p link.
template <class Oracle, class Link>
[[nodiscard]] plan dsh(const layer_graph& g, const Oracle& oracle, const Link& link, const dsh_options& opt = {});
/// @brief DSH with the profile stored in @p g and a link of @p bandwidth bytes/s.
[[nodiscard]] inline plan dsh(const layer_graph& g, double bandwidth) { return dsh(g, g, simple_link(bandwidth)); }

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {
inline double max_stage_of(const layer_graph& g, const cost_table& c, const link_values& l,
                           const std::vector<side>& placement) {
  double dev = 0.0, up = 0.0, srv = 0.0, down = 0.0;
  for (layer_id v = 0; v < g.size(); ++v) {
    if (placement[v] == side::device) {
      dev += c.dev[v];
      for (const layer_id w : g.successors(v))
        if (placement[w] == side::server) {
          up += transfer(c.bytes[v], l.bandwidth);
          break;
        }
    } else {
      srv += c.srv[v];
      if (g.successors(v).empty()) down += transfer(c.bytes[v], l.download_bandwidth);
    }
  }
  return std::max(std::max(dev, up), std::max(srv, down));
}
}  // namespace detail

namespace detail {
// DSH on a link that has been validated.
inline plan dsh_search(dsl_solver& solver, const link_values& l, const dsh_options& opt) {
  // the grid is capped: the work is levels * grid^2 min-cuts
  if (opt.grid < 2 || opt.grid > dsh_options::max_grid || opt.levels < 1 || opt.levels > dsh_options::max_levels ||
      !(opt.max_ratio >= 1.0) || !(opt.tolerance >= 0.0))
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "dsh: need 2 <= grid <= " + std::to_string(dsh_options::max_grid) + ", 1 <= levels <= " +
                         std::to_string(dsh_options::max_levels) + ", max_ratio >= 1, tolerance >= 0; got grid " +
                         std::to_string(opt.grid) + ", levels " + std::to_string(opt.levels))));
  const layer_graph& g = solver.graph();
  const auto& c = solver.costs();
  std::vector<side> best = solver.solve(l).placement;  // alpha = gamma = 1 (plain DSL)
  double best_stage = detail::max_stage_of(g, c, l, best);
  {
    std::vector<side> local(g.size(), side::device);
    const double s = detail::max_stage_of(g, c, l, local);
    if (s < best_stage) {
      best_stage = s;
      best = std::move(local);
    }
  }
  // weight range guarded against tiny transfer times
  double total = 0.0, min_t = std::numeric_limits<double>::infinity();
  for (layer_id v = 0; v < g.size(); ++v) {
    total += c.dev[v] + c.srv[v];
    const double t = detail::transfer(c.bytes[v], l.bandwidth);
    if (t > 0.0 && t < min_t) min_t = t;
  }
  double ratio = opt.max_ratio;
  if (std::isfinite(min_t) && total > 0.0) ratio = std::clamp(total / min_t, 10.0, opt.max_ratio);
  double log_lo_a = -std::log(ratio), log_hi_a = std::log(ratio);
  double log_lo_g = log_lo_a, log_hi_g = log_hi_a;
  std::vector<side> placement;
  for (int level = 0; level < opt.levels; ++level) {
    const double before = best_stage;
    const double step_a = (log_hi_a - log_lo_a) / (opt.grid - 1);
    const double step_g = (log_hi_g - log_lo_g) / (opt.grid - 1);
    double level_best = std::numeric_limits<double>::infinity();
    double centre_a = 0.0, centre_g = 0.0;
    for (int i = 0; i < opt.grid; ++i) {
      const double la = log_lo_a + step_a * i;
      for (int j = 0; j < opt.grid; ++j) {
        const double lg = log_lo_g + step_g * j;
        solver.solve_cut(l, cost_weights{std::exp(la), 1.0, std::exp(lg)}, placement);
        const double s = detail::max_stage_of(g, c, l, placement);
        if (s < level_best) {
          level_best = s;
          centre_a = la;
          centre_g = lg;
        }
        if (s < best_stage) {
          best_stage = s;
          best = placement;
        }
      }
    }
    log_lo_a = centre_a - step_a;
    log_hi_a = centre_a + step_a;
    log_lo_g = centre_g - step_g;
    log_hi_g = centre_g + step_g;
    if (level > 0 && before - best_stage <= opt.tolerance * before) break;
  }
  return price(g, c, l, std::move(best));
}
}  // namespace detail

inline plan dsh(dsl_solver& solver, const detail::link_values& l, const dsh_options& opt) {
  detail::check_link(l);
  return detail::dsh_search(solver, l, opt);
}

template <class Oracle, class Link>
plan dsh(const layer_graph& g, const Oracle& oracle, const Link& link, const dsh_options& opt) {
  INCISION_PARTITION_CHECK_ORACLE("dsh", Oracle);
  INCISION_PARTITION_CHECK_LINK("dsh", Link);
  g.require_nonempty("dsh");  // before assign(), which would name dsl
  const auto l = detail::resolve_link(link);
  dsl_solver s;
  s.assign(g, oracle);
  return detail::dsh_search(s, l, opt);
}

}  // namespace partition
INCISION_END_NAMESPACE
