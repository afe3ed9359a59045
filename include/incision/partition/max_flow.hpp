/// @file
/// @brief Header-only s-t maximum flow / minimum cut engine tuned for DNN partition graphs.
///
/// Algorithm: preflow push-relabel (Goldberg & Tarjan, J. ACM 35(4), 1988), phase one only
/// (enough for a minimum cut), highest-label selection, exact global relabelling by a backward
/// breadth-first search and the gap heuristic (Cherkassky & Goldberg, Algorithmica 19, 1997).
///
/// What is tuned for partition graphs: terminal arcs are stored per vertex (not as arcs) and
/// pre-cancelled (min(source cap, sink cap) is pushed straight through, so each vertex keeps at
/// most one terminal arc); arcs live in a compressed (CSR) array built once; repeated solves with
/// new capacities on the same topology reuse every buffer and allocate nothing.
///
/// Capacities are doubles; +infinity (max_flow::infinity) is represented explicitly, never as a
/// big-M. A push never subtracts to produce a near-zero residue: a saturating push sets the
/// residual to exactly zero and a push that empties a vertex sets its excess to exactly zero.
///
/// Cut side (deterministic): after solve(), the sink side is the set of vertices that can reach
/// the sink in the final residual graph, the source side is every other vertex. This is the
/// inclusion-maximal source side among all minimum cuts.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Reusable max-flow / min-cut solver (see file comment).
class max_flow {
 public:
  using vertex = std::uint32_t;
  using arc_id = std::uint32_t;
  /// @brief The explicit infinite capacity.
  static constexpr double infinity = std::numeric_limits<double>::infinity();

  max_flow() = default;

  /// @brief Drops all arcs and sets the vertex count; keeps allocated memory.
  void reset(std::size_t num_vertices);
  /// @brief Reserves room for @p num_arcs arc pairs.
  void reserve(std::size_t num_arcs);
  /// @brief Adds an arc pair u -> v with capacity @p cap and v -> u with @p reverse_cap.
  /// @return the id used by set_arc.
  arc_id add_arc(vertex u, vertex v, double cap, double reverse_cap = 0.0);
  /// @brief Sets the capacities of an existing arc pair (topology unchanged, no allocation).
  void set_arc(arc_id a, double cap, double reverse_cap = 0.0) noexcept;
  /// @brief Sets the terminal capacities of a vertex: source -> v and v -> sink.
  void set_terminal(vertex v, double source_cap, double sink_cap) noexcept {
    src_[v] = source_cap;
    snk_[v] = sink_cap;
  }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return n_; }
  [[nodiscard]] std::size_t num_arcs() const noexcept { return specs_.size(); }

  /// @brief Computes a maximum preflow and the minimum cut; returns the cut value (infinity
  /// when every cut is infinite). Capacities must be >= 0 and not NaN (asserted).
  double solve();
  /// @brief Side of @p v in the last solve's minimum cut (see file comment).
  [[nodiscard]] bool on_source_side(vertex v) const noexcept { return label_[v] > n_; }
  /// @brief The cut value of the last solve.
  [[nodiscard]] double value() const noexcept { return value_; }

 private:
  std::size_t n_ = 0;
  // arc pairs as added
  struct arc_spec {
    vertex tail, head;
    double cap, reverse_cap;
  };
  std::vector<arc_spec> specs_;
  bool dirty_ = true;
  // CSR
  std::vector<std::uint32_t> first_;   // n + 1
  std::vector<vertex> head_;           // 2m
  std::vector<std::uint32_t> rev_;     // 2m
  std::vector<double> cap_;            // 2m, original capacity
  std::vector<double> res_;            // 2m, residual
  std::vector<std::uint32_t> pos_;     // m, CSR position of forward half of arc pair i
  // per vertex
  std::vector<double> src_, snk_, excess_, sink_res_;
  std::vector<std::uint32_t> label_, current_, count_;
  std::vector<vertex> bucket_head_, bucket_next_, queue_;
  std::uint32_t max_active_ = 0;
  static constexpr vertex none = std::numeric_limits<vertex>::max();
  double value_ = 0.0;
  std::size_t work_ = 0;
  bool pushed_ = false;  // a push happened since the last global relabel

  void build();
  void global_relabel();
  void activate(vertex v) noexcept {
    const std::uint32_t d = label_[v];
    bucket_next_[v] = bucket_head_[d];
    bucket_head_[d] = v;
    if (d > max_active_) max_active_ = d;
  }
  void discharge(vertex v);
  void gap(std::uint32_t d) noexcept;
  void greedy_sweep(bool forward) noexcept;
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void max_flow::reset(std::size_t num_vertices) {
  n_ = num_vertices;
  specs_.clear();
  src_.assign(n_, 0.0);
  snk_.assign(n_, 0.0);
  dirty_ = true;
}

inline void max_flow::reserve(std::size_t num_arcs) {
  specs_.reserve(num_arcs);
}

inline max_flow::arc_id max_flow::add_arc(vertex u, vertex v, double cap, double reverse_cap) {
  INCISION_ASSERT(u < n_ && v < n_ && u != v, "max_flow::add_arc: bad endpoints");
  specs_.push_back(arc_spec{u, v, cap, reverse_cap});
  dirty_ = true;
  return static_cast<arc_id>(specs_.size() - 1);
}

inline void max_flow::set_arc(arc_id a, double cap, double reverse_cap) noexcept {
  specs_[a].cap = cap;
  specs_[a].reverse_cap = reverse_cap;
  if (!dirty_) {
    const std::uint32_t p = pos_[a];
    cap_[p] = cap;
    cap_[rev_[p]] = reverse_cap;
  }
}

inline void max_flow::build() {
  const std::size_t m = specs_.size();
  first_.assign(n_ + 1, 0);
  for (const arc_spec& a : specs_) {
    ++first_[a.tail + 1];
    ++first_[a.head + 1];
  }
  for (std::size_t v = 0; v < n_; ++v) first_[v + 1] += first_[v];
  head_.resize(2 * m);
  rev_.resize(2 * m);
  cap_.resize(2 * m);
  res_.resize(2 * m);
  pos_.resize(m);
  current_.assign(first_.begin(), first_.end() - 1);  // used as fill cursor
  for (std::size_t i = 0; i < m; ++i) {
    const arc_spec& a = specs_[i];
    const std::uint32_t p = current_[a.tail]++;
    const std::uint32_t q = current_[a.head]++;
    head_[p] = a.head;
    head_[q] = a.tail;
    rev_[p] = q;
    rev_[q] = p;
    cap_[p] = a.cap;
    cap_[q] = a.reverse_cap;
    pos_[i] = p;
  }
  excess_.resize(n_);
  sink_res_.resize(n_);
  label_.resize(n_);
  current_.resize(n_);
  count_.resize(n_ + 2);
  bucket_head_.resize(n_ + 2);
  bucket_next_.resize(n_);
  queue_.resize(n_);
  dirty_ = false;
}

inline void max_flow::global_relabel() {
  const auto n = static_cast<std::uint32_t>(n_ + 1);  // "dead": cannot reach the sink
  std::fill(label_.begin(), label_.end(), n);
  std::fill(count_.begin(), count_.end(), 0U);
  std::size_t qh = 0, qt = 0;
  for (vertex v = 0; v < n_; ++v)
    if (sink_res_[v] > 0.0) {
      label_[v] = 1;
      queue_[qt++] = v;
    }
  while (qh < qt) {
    const vertex u = queue_[qh++];
    const std::uint32_t du = label_[u] + 1;
    for (std::uint32_t a = first_[u], e = first_[u + 1]; a < e; ++a) {
      const vertex w = head_[a];
      if (label_[w] == n && res_[rev_[a]] > 0.0) {
        label_[w] = du;
        queue_[qt++] = w;
      }
    }
  }
  std::fill(bucket_head_.begin(), bucket_head_.end(), none);
  max_active_ = 0;
  pushed_ = false;
  for (vertex v = 0; v < n_; ++v) {
    current_[v] = first_[v];
    if (label_[v] < n) {
      ++count_[label_[v]];
      if (excess_[v] > 0.0) activate(v);
    }
  }
  work_ = 0;
}

inline void max_flow::gap(std::uint32_t d) noexcept {
  const auto n = static_cast<std::uint32_t>(n_ + 1);
  for (vertex u = 0; u < n_; ++u)
    if (label_[u] > d && label_[u] < n) {
      --count_[label_[u]];
      label_[u] = n;
    }
}

inline void max_flow::discharge(vertex v) {
  const auto n = static_cast<std::uint32_t>(n_ + 1);
  double ex = excess_[v];
  std::uint32_t d = label_[v];
  for (;;) {
    if (d == 1 && sink_res_[v] > 0.0) {
      pushed_ = true;
      const double r = sink_res_[v];
      if (ex < r) {
        sink_res_[v] = r - ex;
        value_ += ex;
        ex = 0.0;
        break;
      }
      sink_res_[v] = 0.0;
      value_ += r;
      ex = (ex == r) ? 0.0 : ex - r;
      if (ex == 0.0) break;
    }
    const std::uint32_t end = first_[v + 1];
    std::uint32_t a = current_[v];
    for (; a < end; ++a) {
      const double r = res_[a];
      if (r <= 0.0) continue;
      const vertex w = head_[a];
      if (label_[w] + 1 != d) continue;
      double delta;
      if (ex < r) {
        delta = ex;
        res_[a] = r - ex;
        ex = 0.0;
      } else {
        delta = r;
        res_[a] = 0.0;
        ex = (ex == r) ? 0.0 : ex - r;
      }
      res_[rev_[a]] += delta;
      pushed_ = true;
      if (excess_[w] == 0.0) activate(w);
      excess_[w] += delta;
      if (ex == 0.0) break;
    }
    current_[v] = a;
    if (ex == 0.0) break;
    // relabel
    std::uint32_t nd = n;
    if (sink_res_[v] > 0.0) nd = 1;
    for (std::uint32_t b = first_[v]; b < end; ++b)
      if (res_[b] > 0.0 && label_[head_[b]] + 1 < nd) nd = label_[head_[b]] + 1;
    work_ += 12 + (end - first_[v]);
    --count_[d];
    if (count_[d] == 0) {
      gap(d);
      nd = n;
    }
    if (nd >= n) {
      label_[v] = n;
      break;
    }
    label_[v] = nd;
    ++count_[nd];
    d = nd;
    current_[v] = first_[v];
  }
  excess_[v] = ex;
}

// Sweeps before push-relabel: forward, backward, forward in vertex order. At each vertex with
// excess, flow first goes along residual arcs straight into neighbours' sink arcs (two-arc
// augmenting paths), then what is left moves to neighbours later in the sweep direction. Every
// step is a valid push, so the result is a preflow and push-relabel finishes from it; callers that
// number vertices in topological order (as DSL does) get most of the flow routed here, cheaply.
inline void max_flow::greedy_sweep(bool forward) noexcept {
  const auto n = static_cast<vertex>(n_);
  for (vertex i = 0; i < n; ++i) {
    const vertex v = forward ? i : n - 1 - i;
    double ex = excess_[v];
    if (!(ex > 0.0) || std::isinf(ex)) continue;
    const std::uint32_t end = first_[v + 1];
    for (std::uint32_t a = first_[v]; a < end && ex > 0.0; ++a) {
      const vertex w = head_[a];
      const double sr = sink_res_[w];
      const double r = res_[a];
      if (!(sr > 0.0) || !(r > 0.0)) continue;
      double d = ex < r ? ex : r;
      if (sr < d) d = sr;
      if (std::isinf(d)) continue;
      res_[a] = (d == r) ? 0.0 : r - d;
      res_[rev_[a]] += d;
      sink_res_[w] = (d == sr) ? 0.0 : sr - d;
      value_ += d;
      ex = (d == ex) ? 0.0 : ex - d;
    }
    for (std::uint32_t a = first_[v]; a < end && ex > 0.0; ++a) {
      const vertex w = head_[a];
      const double r = res_[a];
      if ((forward ? w < v : w > v) || !(r > 0.0)) continue;
      const double d = ex < r ? ex : r;
      if (std::isinf(d)) continue;
      res_[a] = (d == r) ? 0.0 : r - d;
      res_[rev_[a]] += d;
      excess_[w] += d;
      ex = (d == ex) ? 0.0 : ex - d;
    }
    excess_[v] = ex;
  }
}

inline double max_flow::solve() {
  if (dirty_) build();
  const auto n = static_cast<std::uint32_t>(n_);
  const auto dead = n + 1;
  std::copy(cap_.begin(), cap_.end(), res_.begin());
  value_ = 0.0;
  for (vertex v = 0; v < n; ++v) {
    const double s = src_[v], t = snk_[v];
    INCISION_ASSERT(s >= 0.0 && t >= 0.0, "max_flow: capacities must be >= 0 and not NaN");
    const double c = s < t ? s : t;
    value_ += c;
    excess_[v] = (s == c) ? 0.0 : s - c;
    sink_res_[v] = (t == c) ? 0.0 : t - c;
  }
  if (std::isinf(value_)) {
    // an infinite source arc meets an infinite sink arc: every cut is infinite
    std::fill(label_.begin(), label_.end(), dead);
    return value_;
  }
  greedy_sweep(true);
  greedy_sweep(false);
  greedy_sweep(true);
  global_relabel();
  const std::size_t relabel_period = 6 * n_ + first_[n_];
  for (;;) {
    while (max_active_ > 0 && bucket_head_[max_active_] == none) --max_active_;
    if (max_active_ == 0) break;
    const vertex v = bucket_head_[max_active_];
    bucket_head_[max_active_] = bucket_next_[v];
    if (label_[v] != max_active_ || excess_[v] <= 0.0) continue;  // stale entry after a gap
    discharge(v);
    if (work_ > relabel_period) global_relabel();
  }
  // exact final side: vertices that reach the sink in the residual graph. If nothing was pushed
  // since the last global relabel the residual graph is unchanged and its labels are exact
  // already (later relabels and gaps only mark vertices that cannot reach the sink).
  if (pushed_) global_relabel();
  return value_;
}

}  // namespace partition
INCISION_END_NAMESPACE
