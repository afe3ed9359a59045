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
/// Free layers are folded (with the precedence correction on): a layer with zero compute time on
/// both sides, exactly one predecessor, and either only folded successors or no successor and an
/// empty output takes its predecessor's side and gets no flow vertex. That side is optimal and
/// the one the tie rule picks: on the server it is forced by precedence, on the device it ships
/// nothing. Profiled operator graphs are full of them (ResNet-50's: 213 of 604 layers, batch
/// norm's running and saved statistics and max-pool masks), and the cut graph shrinks by as much.
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
#include <span>
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
  /// @brief How many layers the construction folded into their predecessor (see file comment).
  [[nodiscard]] std::size_t folded_layers() const noexcept { return folded_.size(); }
  /// @brief What the last solve's max-flow engine did (for tests and tuning).
  [[nodiscard]] const max_flow::solve_stats& flow_stats() const noexcept { return mf_.stats(); }

 private:
  static constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint32_t result = none - 1;  // target of a server result: download
  // What one layer became in the cut graph.
  struct layer_vertices {
    max_flow::vertex fv = none;   // its flow vertex; none: contracted input or folded
    max_flow::vertex aux = none;  // its auxiliary vertex; none: fewer than two consumers
    // the slot of its transfer arc; for a contracted input, the flow vertex its transfer feeds
    // as a source arc; `result` for a layer without successors; none: nothing is shipped
    std::uint32_t target = none;
    max_flow::vertex consumer = none;  // the flow vertex of its only consumer (none: 0 or > 1)
  };
  const layer_graph* g_ = nullptr;
  detail::cost_table c_;
  dsl_options opt_;
  max_flow mf_;
  std::vector<layer_vertices> at_;     // per layer
  // the layers with a flow vertex, and the contracted inputs, each in reverse topological order
  // (solves walk these lists instead of branching on every layer's kind)
  std::vector<layer_id> flow_layers_, contracted_;
  // folded layers with the predecessor whose side they take, in reverse topological order
  std::vector<std::pair<layer_id, layer_id>> folded_;
  std::vector<std::uint32_t> degree_;  // scratch: arc ends per vertex, by numbering rank
  double value_ = 0.0;

  void number_vertices();
  template <class Visit>
  void for_each_arc_of(layer_id v, const layer_graph::flat_view& adj, Visit&& visit) const;
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

// Calls visit(transfer, u, w, cap, reverse_cap) for every arc pair of layer v (its transfer
// arc first, flagged), with the vertices currently in at_.
template <class Visit>
void dsl_solver::for_each_arc_of(layer_id v, const layer_graph::flat_view& adj, Visit&& visit) const {
  const double inf = max_flow::infinity;
  const layer_vertices& at = at_[v];
  if (at.aux == none) {  // at most one consumer: a direct transfer arc
    if (at.fv != none && at.consumer != none)
      visit(true, at.fv, at.consumer, 0.0, opt_.precedence ? inf : 0.0);
    return;
  }
  if (at.fv != none) visit(true, at.fv, at.aux, 0.0, 0.0);
  for (const layer_id w : adj.successors(v)) {
    const max_flow::vertex fw = at_[w].fv;
    if (fw == none) continue;  // folded
    visit(false, at.aux, fw, inf, 0.0);
    if (opt_.precedence && at.fv != none) visit(false, fw, at.fv, inf, 0.0);
  }
}

// One pass in reverse topological order folds the free layers, numbers the flow vertices and
// counts their arc ends (every consumer is numbered before its producer), then hands the counts
// to the engine. Pinned inputs are contracted into the source: their transfer arc becomes a
// source arc of the consumer (or of the auxiliary vertex), their reverse arcs point into the
// source and are dropped, their device time is a constant.
// The final numbering is topological with each auxiliary vertex right after its producer:
// neighbours stay close in memory, and the engine's greedy sweep in vertex order routes most of
// the flow forward before the later stages start.
inline void dsl_solver::number_vertices() {
  const layer_graph& g = *g_;
  const std::vector<layer_id>& order = g.topological_order();
  const layer_graph::flat_view& adj = g.flat();
  at_.assign(g.size(), layer_vertices{});
  folded_.clear();
  flow_layers_.clear();
  contracted_.clear();
  degree_.assign(2 * g.size(), 0);  // at most a flow vertex and an auxiliary vertex per layer
  max_flow::vertex next = 0;        // ranks count down the final numbering
  std::size_t pairs = 0;
  const auto count = [&](bool, max_flow::vertex a, max_flow::vertex b, double, double) {
    ++degree_[a];
    ++degree_[b];
    ++pairs;
  };
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const layer_id v = *it;
    const std::span<const layer_id> succ = adj.successors(v);
    std::uint32_t consumers = 0;  // successors with a flow vertex
    max_flow::vertex consumer = none;
    for (const layer_id w : succ) {
      const max_flow::vertex fw = at_[w].fv;
      consumers += fw != none ? 1U : 0U;
      consumer = fw != none ? fw : consumer;
    }
    if (opt_.precedence && consumers == 0 && c_.dev[v] == 0.0 && c_.srv[v] == 0.0 &&
        adj.in_degree(v) == 1 && (!succ.empty() || c_.bytes[v] == 0.0)) {
      folded_.emplace_back(v, adj.predecessors(v)[0]);
      continue;
    }
    layer_vertices& at = at_[v];
    const bool contracted = opt_.pin_inputs && adj.in_degree(v) == 0;
    if (consumers > 1) at.aux = next++;  // before fv: the flip puts it right after fv
    if (!contracted) at.fv = next++;
    if (consumers == 1) at.consumer = consumer;
    if (contracted) at.target = consumers > 1 ? at.aux : at.consumer;
    else if (succ.empty()) at.target = result;
    (contracted ? contracted_ : flow_layers_).push_back(v);
    for_each_arc_of(v, adj, count);
  }
  const max_flow::vertex n = next;
  const auto flip = [n](max_flow::vertex r) { return r == none ? none : n - 1 - r; };
  for (layer_vertices& at : at_) {
    if (at.fv == none && at.target != none) at.target = flip(at.target);
    at.fv = flip(at.fv);
    at.aux = flip(at.aux);
    at.consumer = flip(at.consumer);
  }
  mf_.begin_counting(n, pairs);
  for (max_flow::vertex r = 0; r < n; ++r) mf_.count_ends(flip(r), degree_[r]);
}

template <class Oracle>
void dsl_solver::assign(const layer_graph& g, const Oracle& oracle, const dsl_options& opt) {
  g.require_nonempty("dsl");
  detail::cost_table c;
  detail::read_costs(g, oracle, c);
  c_ = std::move(c);
  g_ = &g;
  opt_ = opt;
  number_vertices();
  // The cut graph goes straight into the engine's CSR arrays, in layer order.
  mf_.place_arcs();
  const layer_graph::flat_view& adj = g.flat();
  for (layer_id v = 0; v < g.size(); ++v)
    for_each_arc_of(v, adj, [&](bool transfer, max_flow::vertex a, max_flow::vertex b, double cap, double rev) {
      const max_flow::arc_id slot = mf_.place_arc(a, b, cap, rev);
      if (transfer) at_[v].target = slot;
    });
}

inline double dsl_solver::solve_cut(const detail::link_values& l, const cost_weights& w,
                                    std::vector<side>& placement) {
  INCISION_ASSERT(g_ != nullptr, "dsl_solver: assign() first");
  const std::size_t n = g_->size();
  mf_.clear_terminals();
  double constant = 0.0;
  for (const layer_id v : contracted_) {  // always on the device, the transfer feeds `target`
    constant += w.device * c_.dev[v];
    const std::uint32_t t = at_[v].target;
    if (t != none) mf_.add_terminal(t, w.transfer * detail::transfer(c_.bytes[v], l.bandwidth), 0.0);
  }
  for (const layer_id v : flow_layers_) {
    const std::uint32_t t = at_[v].target;
    double server = w.server * c_.srv[v];
    if (t == result) server += w.transfer * detail::transfer(c_.bytes[v], l.download_bandwidth);
    else if (t != none) mf_.set_capacity(t, w.transfer * detail::transfer(c_.bytes[v], l.bandwidth));
    mf_.add_terminal(at_[v].fv, server, w.device * c_.dev[v]);
  }
  value_ = mf_.solve() + constant;
  placement.assign(n, side::device);  // contracted inputs stay, folded layers are set below
  for (const layer_id v : flow_layers_)
    placement[v] = mf_.on_source_side(at_[v].fv) ? side::device : side::server;
  for (auto it = folded_.rbegin(); it != folded_.rend(); ++it)  // topological order
    placement[it->first] = placement[it->second];
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
