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
  /// @brief What the last solve's max-flow engine did (for tests and tuning).
  [[nodiscard]] const max_flow::solve_stats& flow_stats() const noexcept { return mf_.stats(); }

 private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  const layer_graph* g_ = nullptr;
  detail::cost_table c_;
  dsl_options opt_;
  max_flow mf_;
  std::vector<max_flow::vertex> vertex_of_;  // per layer: its flow vertex (none: contracted input)
  std::vector<max_flow::vertex> aux_of_;     // per layer: its auxiliary vertex (none: < 2 successors)
  // per layer: the slot of its transfer arc; for a contracted input, the flow vertex its transfer
  // feeds as a source arc; none for a layer without successors
  std::vector<std::uint32_t> target_;
  double value_ = 0.0;

  template <class Visit>
  void for_each_arc(Visit&& visit) const;
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

// Calls visit(layer, u, v, cap, reverse_cap) for every arc pair of the cut graph, in layer
// order; `layer` is the producer whose transfer arc this is, or none for the other arcs.
template <class Visit>
void dsl_solver::for_each_arc(Visit&& visit) const {
  const layer_graph& g = *g_;
  const double inf = max_flow::infinity;
  const double back = opt_.precedence ? inf : 0.0;
  for (layer_id v = 0; v < g.size(); ++v) {
    const auto& s = g.successors(v);
    const max_flow::vertex fv = vertex_of_[v];
    if (s.size() == 1) {
      if (fv != none) visit(v, fv, vertex_of_[s[0]], 0.0, back);
    } else if (s.size() > 1) {
      const max_flow::vertex a = aux_of_[v];
      if (fv != none) visit(v, fv, a, 0.0, 0.0);
      for (const layer_id w : s) {
        visit(none, a, vertex_of_[w], inf, 0.0);
        if (opt_.precedence && fv != none) visit(none, vertex_of_[w], fv, inf, 0.0);
      }
    }
  }
}

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
  // Flow vertices are numbered in topological order with each auxiliary vertex right after its
  // producer: neighbours stay close in memory, and the engine's greedy sweep in vertex order
  // routes most of the flow forward before the later stages start.
  vertex_of_.assign(n, none);
  aux_of_.assign(n, none);
  max_flow::vertex next = 0;
  std::size_t pairs = 0;  // as for_each_arc will visit them
  for (const layer_id v : g.topological_order()) {
    const bool contracted = opt.pin_inputs && g.is_input(v);
    const std::size_t k = g.successors(v).size();
    if (!contracted) vertex_of_[v] = next++;
    if (k > 1) aux_of_[v] = next++;
    if (k == 1) pairs += contracted ? 0 : 1;
    if (k > 1) pairs += (contracted ? 0 : 1) + k * (opt.precedence && !contracted ? 2 : 1);
  }
  // The cut graph goes straight into the engine's CSR arrays: count, then place.
  mf_.begin_counting(next, pairs);
  for_each_arc([&](layer_id, max_flow::vertex u, max_flow::vertex w, double, double) { mf_.count_arc(u, w); });
  mf_.place_arcs();
  target_.assign(n, none);
  for (layer_id v = 0; v < n; ++v)
    if (vertex_of_[v] == none && !g.successors(v).empty())
      target_[v] = g.successors(v).size() == 1 ? vertex_of_[g.successors(v)[0]] : aux_of_[v];
  for_each_arc([&](layer_id producer, max_flow::vertex u, max_flow::vertex w, double cap, double rev) {
    const max_flow::arc_id slot = mf_.place_arc(u, w, cap, rev);
    if (producer != none) target_[producer] = slot;
  });
}

inline double dsl_solver::solve_cut(const detail::link_values& l, const cost_weights& w,
                                    std::vector<side>& placement) {
  INCISION_ASSERT(g_ != nullptr, "dsl_solver: assign() first");
  const std::size_t n = g_->size();
  mf_.clear_terminals();
  double constant = 0.0;
  for (layer_id v = 0; v < n; ++v) {
    const max_flow::vertex fv = vertex_of_[v];
    const std::uint32_t t = target_[v];
    if (fv == none) {  // contracted input: always on the device, its transfer feeds `t`
      constant += w.device * c_.dev[v];
      if (t != none) mf_.add_terminal(t, w.transfer * detail::transfer(c_.bytes[v], l.bandwidth), 0.0);
      continue;
    }
    double server = w.server * c_.srv[v];
    if (t == none) server += w.transfer * detail::transfer(c_.bytes[v], l.download_bandwidth);  // a result
    else mf_.set_capacity(t, w.transfer * detail::transfer(c_.bytes[v], l.bandwidth));
    mf_.add_terminal(fv, server, w.device * c_.dev[v]);
  }
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
