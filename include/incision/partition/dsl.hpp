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
/// by comparing the best cut plus RTT with the all-device plan (ties go to the device). Both
/// read ties up to detail::tie_rel (relative to the cut value / the latency): residuals below
/// it count as saturated, so float rounding does not decide a tie.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/scratch.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/cost_table.hpp>
#include <incision/partition/detail/tie.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/max_flow.hpp>
#include <incision/partition/plan.hpp>
#include <incision/partition/pricing.hpp>

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
  /// @brief dsl() on a solver kept between calls: assign() then solve() at @p link, the same plan
  /// as dsl(g, oracle, link, opt), without allocating anything but the plan once the buffers have
  /// grown to the largest graph seen. Leaves the solver assigned to @p g. Same checks and
  /// exceptions as dsl(); the solver is unchanged when a check or the oracle throws.
  template <class Oracle, class Link>
  plan run(const layer_graph& g, const Oracle& oracle, const Link& link, const dsl_options& opt = {});
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
  // The vertices of one layer while the graph is built.
  struct layer_vertices {
    max_flow::vertex fv;        // its flow vertex; none: contracted input
    max_flow::vertex aux;       // its auxiliary vertex; none: fewer than two consumers
    max_flow::vertex consumer;  // the flow vertex of its only consumer (none: 0 or > 1)
  };
  // What the solves read: one record per layer with a flow vertex and one per contracted input
  // (the lists hold room for every layer, so building them never reallocates).
  struct flow_layer {
    layer_id v;
    max_flow::vertex fv;
    std::uint32_t target;  // the slot of its transfer arc, `result`, or none: nothing shipped
  };
  struct contracted_input {
    layer_id v;
    max_flow::vertex target;  // the vertex its transfer feeds as a source arc, none: not shipped
  };
  const layer_graph* g_ = nullptr;
  detail::cost_table c_;
  detail::cost_table spare_costs_;  // what assign() reads into (see there)
  dsl_options opt_;
  max_flow mf_;
  std::vector<flow_layer> flow_layers_;
  std::vector<contracted_input> contracted_;
  // folded layers with the predecessor whose side they take, in reverse topological order
  std::vector<std::pair<layer_id, layer_id>> folded_;
  // scratch of the build: each layer's flow vertex (none: folded or contracted)
  incision::detail::scratch_array<max_flow::vertex> fv_;
  double value_ = 0.0;

  void build();
  INCISION_ALWAYS_INLINE void place_arcs_of(layer_vertices at, const layer_id* succ_begin, const layer_id* succ_end,
                                            std::uint32_t& transfer);
};

/// @brief Latency-optimal plan (DSL) for @p g priced by @p oracle over @p link.
template <class Oracle, class Link>
[[nodiscard]] plan dsl(const layer_graph& g, const Oracle& oracle, const Link& link, const dsl_options& opt = {});
/// @brief Latency-optimal plan using the profile stored in @p g and a link of @p bandwidth bytes/s.
[[nodiscard]] inline plan dsl(const layer_graph& g, double bandwidth) { return dsl(g, g, simple_link(bandwidth)); }

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

// Places the arcs of a layer (its transfer arc first) into the engine, with the vertices in
// `at` and those of its successors (already placed: the build runs in reverse topological
// order); records v's transfer slot in `transfer`.
INCISION_ALWAYS_INLINE void dsl_solver::place_arcs_of(const layer_vertices at, const layer_id* succ_begin,
                                                      const layer_id* succ_end, std::uint32_t& transfer) {
  const double inf = max_flow::infinity;
  if (at.aux == none) {  // at most one consumer: a direct transfer arc
    if (at.fv != none && at.consumer != none)
      transfer = mf_.place_arc_unchecked(at.fv, at.consumer, 0.0, opt_.precedence ? inf : 0.0);
    return;
  }
  if (at.fv != none) transfer = mf_.place_arc_unchecked(at.fv, at.aux, 0.0, 0.0);
  const bool back = opt_.precedence && at.fv != none;
  const max_flow::vertex* const fv_of = fv_.data();
  for (const layer_id* w = succ_begin; w != succ_end; ++w) {
    const max_flow::vertex fw = fv_of[*w];
    if (fw == none) continue;  // folded
    (void)mf_.place_arc_unchecked(at.aux, fw, inf, 0.0);
    if (back) (void)mf_.place_arc_unchecked(fw, at.fv, inf, 0.0);
  }
}

// One pass in reverse topological order builds the cut graph: it folds the free layers, gives
// every other layer its vertices (numbered in that order: every consumer before its producer)
// and places its arcs, whose other ends (consumers) are numbered already. Each vertex gets
// room for its own arcs, known then, and for the arcs its producers will add, at most two
// per predecessor; the engine skips the unused room. Pinned inputs are contracted into the
// source: their transfer arc becomes a source arc of the consumer (or of the auxiliary
// vertex), their reverse arcs point into the source and are dropped, their device time is a
// constant. An auxiliary vertex is numbered right before its producer, so in the engine's
// sweeps (from the top: topological order) it comes right after it, and neighbours stay close
// in memory.
inline void dsl_solver::build() {
  const layer_graph& g = *g_;
  const std::size_t layers = g.size();
  const layer_graph::flat_view& adj = g.flat();
  const bool precedence = opt_.precedence, pin_inputs = opt_.pin_inputs;
  const double* const dev = c_.dev.data();
  const double* const srv = c_.srv.data();
  const double* const bytes = c_.bytes.data();
  max_flow::vertex* const fv_of = fv_.get(layers);  // every entry is written before it is read
  folded_.clear();
  folded_.reserve(layers);
  flow_layers_.clear();
  flow_layers_.reserve(layers);
  contracted_.clear();
  contracted_.reserve(layers);
  const std::uint32_t in_room = precedence ? 2 : 1;  // arc ends a producer may add per edge
  // at most two vertices per layer; rooms: an auxiliary vertex 1 + out-degree, a flow vertex
  // 1 + out-degree + in_room * in-degree
  mf_.begin_rooms_uncleared(2 * layers, 2 * layers + (2 + in_room) * adj.succ.size(), /*descending=*/true);
  max_flow::vertex next = 0;
  // raw pointers: the loop may call the allocator (push_back), after which the compiler would
  // reload every vector's data pointer
  const std::uint32_t* const first = adj.first.data();
  const layer_id* const succ = adj.succ.data();
  const std::uint32_t* const pred_first = adj.pred_first.data();
  const layer_id* const pred = adj.pred.data();
  const std::vector<layer_id>& order = g.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const layer_id v = *it;
    const layer_id* const succ_begin = succ + first[v];
    const layer_id* const succ_end = succ + first[v + 1];
    std::uint32_t consumers = 0;  // successors with a flow vertex
    max_flow::vertex consumer = none;
    for (const layer_id* w = succ_begin; w != succ_end; ++w) {
      const max_flow::vertex fw = fv_of[*w];
      consumers += fw != none ? 1U : 0U;
      consumer = fw != none ? fw : consumer;
    }
    const std::uint32_t in_degree = pred_first[v + 1] - pred_first[v];
    if (precedence && consumers == 0 && in_degree == 1 && dev[v] == 0.0 && srv[v] == 0.0 &&
        (succ_begin != succ_end || bytes[v] == 0.0)) {
      fv_of[v] = none;
      folded_.emplace_back(v, pred[pred_first[v]]);
      continue;
    }
    const bool contracted = pin_inputs && in_degree == 0;
    layer_vertices at{none, none, consumers == 1 ? consumer : none};
    if (consumers > 1) {  // before fv: the engine sweeps from the top, so it comes right after fv
      at.aux = next++;
      mf_.open_vertex_unchecked(at.aux, (contracted ? 0U : 1U) + consumers);
    }
    if (!contracted) {
      at.fv = next++;
      const std::uint32_t own = consumers == 0 ? 0U : consumers == 1 || !precedence ? 1U : 1U + consumers;
      mf_.open_vertex_unchecked(at.fv, own + in_room * in_degree);
    }
    fv_of[v] = at.fv;
    if (contracted) {
      contracted_.push_back({v, consumers > 1 ? at.aux : at.consumer});
      if (consumers <= 1) continue;  // no arcs: its transfer is a source arc
    }
    std::uint32_t transfer = succ_begin == succ_end ? result : none;
    place_arcs_of(at, succ_begin, succ_end, transfer);
    if (!contracted) flow_layers_.push_back({v, at.fv, transfer});
  }
  mf_.end_rooms(next);
}

template <class Oracle>
void dsl_solver::assign(const layer_graph& g, const Oracle& oracle, const dsl_options& opt) {
  g.require_nonempty("dsl");
  // read into the spare table, then swap: a throwing oracle leaves the solver as it was, and a
  // kept solver reuses both tables' memory
  detail::read_costs(g, oracle, spare_costs_);
  std::swap(c_, spare_costs_);
  g_ = &g;
  opt_ = opt;
  mf_.set_tie_tolerance(detail::tie_rel);
  build();
}

template <class Oracle, class Link>
plan dsl_solver::run(const layer_graph& g, const Oracle& oracle, const Link& link, const dsl_options& opt) {
  INCISION_PARTITION_CHECK_ORACLE("dsl", Oracle);
  INCISION_PARTITION_CHECK_LINK("dsl", Link);
  const detail::link_values l = detail::resolve_link(link);  // throws before anything changes
  assign(g, oracle, opt);
  return solve(l);
}

inline double dsl_solver::solve_cut(const detail::link_values& l, const cost_weights& w, std::vector<side>& placement) {
  INCISION_ASSERT(g_ != nullptr, "dsl_solver: assign() first");
  const std::size_t n = g_->size();
  mf_.clear_terminals();
  double constant = 0.0;
  for (const contracted_input& in : contracted_) {  // always on the device
    constant += w.device * c_.dev[in.v];
    if (in.target != none) mf_.add_terminal(in.target, w.transfer * detail::transfer(c_.bytes[in.v], l.bandwidth), 0.0);
  }
  for (const flow_layer& f : flow_layers_) {
    double server = w.server * c_.srv[f.v];
    if (f.target == result)
      server += w.transfer * detail::transfer(c_.bytes[f.v], l.download_bandwidth);
    else if (f.target != none)
      mf_.set_capacity(f.target, w.transfer * detail::transfer(c_.bytes[f.v], l.bandwidth));
    mf_.add_terminal(f.fv, server, w.device * c_.dev[f.v]);
  }
  value_ = mf_.solve() + constant;
  placement.assign(n, side::device);  // contracted inputs stay, folded layers are set below
  for (const flow_layer& f : flow_layers_) placement[f.v] = mf_.on_source_side(f.fv) ? side::device : side::server;
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
                            ? detail::tie_or_less(local.latency, p.latency)
                            : detail::tie_or_less(local.max_stage, p.max_stage);
    if (better) p = std::move(local);
  }
  // the corrected construction is feasible by design; the paper's graph may not be
  if ((!opt_.precedence || !opt_.pin_inputs) && detail::first_violation(*g_, p.placement) != g_->size())
    p.status = incision::status::infeasible;
  return p;
}

template <class Oracle, class Link>
plan dsl(const layer_graph& g, const Oracle& oracle, const Link& link, const dsl_options& opt) {
  dsl_solver s;  // run() checks Oracle and Link under the name "dsl"
  return s.run(g, oracle, link, opt);
}

}  // namespace partition
INCISION_END_NAMESPACE
