/// @file
/// @brief DSL: the latency-optimal partition of a layer DAG by one minimum s-t cut.
///
/// C. Hu, W. Bao, D. Wang, F. Liu, "Dynamic Adaptive DNN Surgery for Inference Acceleration on
/// the Edge", IEEE INFOCOM 2019 (DADS), Algorithm 1 / Proposition 1.
///
/// Construction (source = device side, sink = server side):
///  - source -> v with the server time of v, v -> sink with the device time of v;
///  - a layer v with one successor w: arc v -> w with the transfer time out_bytes(v)/B;
///  - a layer v with several successors gets an auxiliary vertex v': v -> v' with the transfer
///    time, v' -> w with infinite capacity for every successor w (the output is shipped once);
///  - server layers without successors add their result download time to the source arc.
/// Two corrections the paper lacks (both on by default):
///  1. precedence: an infinite reverse arc w -> v for every DAG edge v -> w, always into the
///     ORIGINAL producer v (never into v'), so no server layer can feed a device layer;
///  2. input pinning: an infinite source arc into every input (a layer without predecessors).
/// Tie-breaking: among all optimal plans the one with the inclusion-maximal device set (layers
/// that cannot reach the sink in the final residual graph); an optional RTT is handled exactly
/// by comparing the best cut plus RTT with the all-device plan (ties go to the device).
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/max_flow.hpp>
#include <incision/partition/plan.hpp>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Options of the DSL construction.
struct dsl_options {
  /// Precedence correction (reverse infinite arcs). Turning it off reproduces the paper's graph.
  bool precedence = true;
  /// Input pinning correction. Turning it off reproduces the paper's graph.
  bool pin_inputs = true;
};

/// @brief Cost-class weights of the DSH reweighting (DADS eq. 5): device, transfer, server.
struct cost_weights {
  double device = 1.0;
  double transfer = 1.0;
  double server = 1.0;
};

/// @brief A reusable DSL solver: builds the cut graph once per layer graph and re-solves for
/// new bandwidths or cost weights without allocating.
class dsl_solver {
 public:
  dsl_solver() = default;
  /// @brief Reads the costs from @p oracle (validated, oracle_error on a bad value) and builds the graph.
  /// The solver keeps a pointer to @p g: the graph must outlive the solver's use and not change.
  template <class Oracle>
  void assign(const layer_graph& g, const Oracle& oracle, const dsl_options& opt = {});
  /// @brief Solves at @p link with @p w (weights apply to the cut, the plan is priced unweighted).
  /// @return the optimal plan; value() holds the weighted cut value of the solve.
  plan solve(const detail::link_values& link, const cost_weights& w = {});
  /// @brief Like solve() but only marks the device set into @p on_device (no plan allocation).
  /// @return the weighted min-cut value (the optimal latency for unit weights, RTT excluded).
  double solve_cut(const detail::link_values& link, const cost_weights& w, std::vector<side>& placement);
  [[nodiscard]] const layer_graph& graph() const noexcept { return *g_; }
  [[nodiscard]] const detail::cost_table& costs() const noexcept { return c_; }
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  const layer_graph* g_ = nullptr;
  detail::cost_table c_;
  dsl_options opt_;
  max_flow mf_;
  std::vector<max_flow::arc_id> transfer_arc_;           // per layer (none: no arc)
  std::vector<max_flow::vertex> vertex_of_;              // flow vertex of a layer (none: contracted input)
  std::vector<std::pair<layer_id, max_flow::vertex>> feed_;  // contracted input -> vertex it feeds
  std::vector<double> src_;                              // scratch: source capacities per flow vertex
  std::vector<max_flow::vertex> aux_of_;                 // auxiliary vertex of a layer (none: single consumer)
  std::vector<std::uint8_t> is_aux_;                     // per flow vertex
  std::vector<std::uint8_t> flags_;                      // per layer: sink_layer | single_consumer
  static constexpr std::uint8_t sink_layer = 1, single_consumer = 2;
  double value_ = 0.0;
};

/// @brief Latency-optimal plan (DSL) for @p g priced by @p oracle over @p link.
template <class Oracle, class Link>
[[nodiscard]] plan dsl(const layer_graph& g, const Oracle& oracle, const Link& link,
                       const dsl_options& opt = {});
/// @brief Latency-optimal plan using the profile stored in @p g and a link of @p bandwidth bytes/s.
[[nodiscard]] inline plan dsl(const layer_graph& g, double bandwidth) {
  return dsl(g, g, simple_link(bandwidth));
}

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Oracle>
void dsl_solver::assign(const layer_graph& g, const Oracle& oracle, const dsl_options& opt) {
  g.require_nonempty("dsl");
  detail::cost_table c;
  detail::read_costs(g, oracle, c);
  c_ = std::move(c);
  g_ = &g;
  opt_ = opt;
  const std::size_t n = g.size();
  // Pinned inputs are contracted into the source: their transfer arc becomes a source arc of
  // the consumer (or of the auxiliary vertex), their reverse arcs point into the source and
  // are dropped, their device time is a constant.
  constexpr auto none = std::numeric_limits<max_flow::vertex>::max();
  // Flow vertices are numbered in topological order with each auxiliary vertex right after its
  // producer: neighbours stay close in memory, and the engine's greedy sweep in vertex order
  // routes most of the flow forward before push-relabel starts.
  vertex_of_.assign(n, none);
  aux_of_.assign(n, none);
  is_aux_.clear();
  max_flow::vertex next = 0;
  for (const layer_id v : g.topological_order()) {
    if (!(opt.pin_inputs && g.is_input(v))) {
      vertex_of_[v] = next++;
      is_aux_.push_back(0);
    }
    if (g.successors(v).size() > 1) {
      aux_of_[v] = next++;
      is_aux_.push_back(1);
    }
  }
  mf_.reset(next);
  mf_.reserve(next + 2 * g.num_edges());
  transfer_arc_.assign(n, none);
  flags_.assign(n, 0);
  for (layer_id v = 0; v < n; ++v) {
    const std::size_t k = g.successors(v).size();
    flags_[v] = static_cast<std::uint8_t>((k == 0 ? sink_layer : 0) | (k == 1 ? single_consumer : 0));
  }
  feed_.clear();
  const double inf = max_flow::infinity;
  const double back = opt.precedence ? inf : 0.0;
  for (layer_id v = 0; v < n; ++v) {
    const auto& s = g.successors(v);
    const max_flow::vertex fv = vertex_of_[v];
    if (s.size() == 1) {
      if (fv == none) feed_.emplace_back(v, vertex_of_[s[0]]);
      else transfer_arc_[v] = mf_.add_arc(fv, vertex_of_[s[0]], 0.0, back);
    } else if (s.size() > 1) {
      const max_flow::vertex a = aux_of_[v];
      if (fv == none) feed_.emplace_back(v, a);
      else transfer_arc_[v] = mf_.add_arc(fv, a, 0.0, 0.0);
      for (const layer_id w : s) {
        mf_.add_arc(a, vertex_of_[w], inf, 0.0);
        if (opt.precedence && fv != none) mf_.add_arc(vertex_of_[w], fv, inf, 0.0);
      }
    }
  }
  src_.assign(next, 0.0);
}

inline double dsl_solver::solve_cut(const detail::link_values& l, const cost_weights& w,
                                    std::vector<side>& placement) {
  INCISION_ASSERT(g_ != nullptr, "dsl_solver: assign() first");
  const layer_graph& g = *g_;
  const std::size_t n = g.size();
  constexpr auto none = std::numeric_limits<max_flow::vertex>::max();
  std::fill(src_.begin(), src_.end(), 0.0);
  double constant = 0.0;
  for (const auto& [v, target] : feed_) src_[target] += w.transfer * detail::transfer(c_.bytes[v], l.bandwidth);
  const double back = opt_.precedence ? max_flow::infinity : 0.0;
  for (layer_id v = 0; v < n; ++v) {
    const max_flow::vertex fv = vertex_of_[v];
    if (fv == none) {
      constant += w.device * c_.dev[v];
      continue;
    }
    const std::uint8_t f = flags_[v];
    double server = w.server * c_.srv[v];
    if (f & sink_layer) server += w.transfer * detail::transfer(c_.bytes[v], l.download_bandwidth);
    mf_.set_terminal(fv, server + src_[fv], w.device * c_.dev[v]);
    if (transfer_arc_[v] != none)
      mf_.set_arc(transfer_arc_[v], w.transfer * detail::transfer(c_.bytes[v], l.bandwidth),
                  (f & single_consumer) ? back : 0.0);
  }
  for (max_flow::vertex a = 0; a < src_.size(); ++a)
    if (is_aux_[a]) mf_.set_terminal(a, src_[a], 0.0);
  value_ = mf_.solve() + constant;
  placement.resize(n);
  for (layer_id v = 0; v < n; ++v)
    placement[v] = (vertex_of_[v] == none || mf_.on_source_side(vertex_of_[v])) ? side::device : side::server;
  return value_;
}

inline plan dsl_solver::solve(const detail::link_values& l, const cost_weights& w) {
  std::vector<side> placement;
  solve_cut(l, w, placement);
  plan p = detail::price(*g_, c_, l, std::move(placement));
  if (l.rtt > 0.0 && !p.server_layers.empty()) {
    plan local = detail::price(*g_, c_, l, std::vector<side>(g_->size(), side::device));
    const bool better = (w.device == 1.0 && w.server == 1.0 && w.transfer == 1.0)
                            ? local.latency <= p.latency
                            : local.max_stage <= p.max_stage;
    if (better) p = std::move(local);
  }
  // the corrected construction is feasible by design; the paper's graph may not be
  if ((!opt_.precedence || !opt_.pin_inputs) && detail::first_violation(*g_, p.placement) != g_->size())
    p.status = incision::status::infeasible;
  return p;
}

template <class Oracle, class Link>
plan dsl(const layer_graph& g, const Oracle& oracle, const Link& link, const dsl_options& opt) {
  INCISION_PARTITION_CHECK_ORACLE("dsl", Oracle);
  INCISION_PARTITION_CHECK_LINK("dsl", Link);
  const auto l = detail::resolve_link(link);
  detail::check_link(l);
  dsl_solver s;
  s.assign(g, oracle, opt);
  return s.solve(l);
}

}  // namespace partition
INCISION_END_NAMESPACE
