/// @file
/// @brief Header-only s-t maximum flow / minimum cut engine tuned for DNN partition graphs.
///
/// Algorithm: a maximum preflow (Goldberg & Tarjan, J. ACM 35(4), 1988: phase one is enough for
/// a minimum cut) built in three stages, each made of valid pushes:
///  1. sweeps in vertex order (forward, backward, forward; stop when no excess is left): each
///     vertex with excess drains into its own sink arc, then into its neighbours' sink arcs,
///     then hands the rest on in the sweep direction. Callers that number vertices in
///     topological order get most of the flow routed here; DSL numbers them in reverse
///     topological order and has the sweeps start from the top (begin_rooms(..., descending));
///  2. forest pushes (at most 4 rounds, while they gain): a breadth-first forest of residual arcs
///     grown from every vertex still holding excess; each tree's absorbable amount (sink
///     residuals, capped by the tree arcs) is computed bottom-up and the excess distributed
///     top-down, so one O(m) pass reaches every deficit a tree touches;
///  3. Dinic's blocking flows (Dinic, Soviet Math. Doklady 11, 1970) from the vertices with
///     excess to the sink, phase after phase until a phase finds no augmenting path, which
///     proves the preflow maximal. Unlike push-relabel, excess that cannot reach the sink (on
///     these graphs most of what is left after stage 2) is never pushed back and forth.
/// Compared on the msr-fiddle graphs at three bandwidths, stage 3 took 18% fewer instructions in
/// all than highest-label push-relabel with global relabelling and gaps (2.1x fewer on BERT's
/// operator graph at 100 Mbit/s, 1.6x more on Inception-v3's), with less code and memory.
///
/// What is tuned for partition graphs: terminal arcs are stored per vertex (not as arcs) and
/// pre-cancelled (min(source cap, sink cap) is pushed straight through, so each vertex keeps at
/// most one terminal arc); arcs live in compressed (CSR) arrays ({head, reverse} pairs and
/// residuals), built once; repeated solves with new capacities on the same topology reuse every
/// buffer and allocate nothing. Three ways to build: add_arc() (an arc list, compiled on the
/// first solve); count_arc() / place_arcs() / place_arc(), which write the CSR arrays directly
/// (no arc list, less memory); or begin_rooms() / open_vertex() / place_arc(), one pass without
/// counting, where each vertex gets room for at least its arcs and the loops skip what is left
/// over (dsl_solver uses it: the cut graph is placed while it is numbered).
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
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Reusable max-flow / min-cut solver (see file comment).
class max_flow {
 public:
  using vertex = std::uint32_t;
  /// @brief Id of an arc pair from add_arc (its index), or of a placed arc (its CSR slot).
  using arc_id = std::uint32_t;
  /// @brief The explicit infinite capacity.
  static constexpr double infinity = std::numeric_limits<double>::infinity();

  max_flow() = default;
  max_flow(const max_flow& other);
  max_flow(max_flow&& other) noexcept { swap(other); }
  max_flow& operator=(max_flow other) noexcept {
    swap(other);
    return *this;
  }
  ~max_flow() = default;
  void swap(max_flow& other) noexcept;

  // --- building with an arc list -----------------------------------------------------------
  /// @brief Drops all arcs, sets the vertex count and zeroes the terminals; keeps memory.
  void reset(std::size_t num_vertices);
  /// @brief Reserves room for @p num_arcs arc pairs.
  void reserve(std::size_t num_arcs);
  /// @brief Adds an arc pair u -> v with capacity @p cap and v -> u with @p reverse_cap.
  /// @return the id used by set_arc.
  /// @throws out_of_range for a vertex >= num_vertices(); invalid_argument for u == v.
  arc_id add_arc(vertex u, vertex v, double cap, double reverse_cap = 0.0);
  /// @brief Sets the capacities of an arc pair from add_arc (topology unchanged, no allocation).
  void set_arc(arc_id a, double cap, double reverse_cap = 0.0) noexcept;

  // --- building the CSR arrays directly ----------------------------------------------------
  /// @brief Like reset(), for the direct construction: then count_arc() every pair, then
  /// place_arcs(), then place_arc() every pair (in any order). @p expected_pairs (optional)
  /// sizes the storage up front, so place_arcs() does not reallocate.
  void begin_counting(std::size_t num_vertices, std::size_t expected_pairs = 0);
  /// @brief Counts one arc pair between @p u and @p v.
  void count_arc(vertex u, vertex v) noexcept {
    ++first_[u + 1];
    ++first_[v + 1];
  }
  /// @brief Sizes the CSR arrays for the pairs counted.
  void place_arcs();
  /// @brief Places a counted pair u -> v (@p cap) and v -> u (@p reverse_cap).
  /// @return its slot, for set_slot.
  /// @throws out_of_range for an unknown vertex; invalid_argument for u == v or when u or v has
  /// no counted (or roomed) slot left; nothing is written then. Checked in every build mode: an
  /// arc beyond a vertex's room would overwrite its neighbour's arcs.
  arc_id place_arc(vertex u, vertex v, double cap, double reverse_cap = 0.0);

  // --- building in one pass, with room per vertex -------------------------------------------
  /// @brief Like reset(), for building without counting first: room for up to @p max_vertices
  /// vertices and @p max_slots arc ends. Then open_vertex() each vertex once, with room for at
  /// least its arc ends (unused room is a gap no loop visits; place_arc() throws rather than
  /// spill into the next vertex's room), and
  /// place_arc() pairs between open vertices as they come; end_rooms() closes the build.
  /// @p descending: the vertices are numbered against the flow's main direction (reverse
  /// topological order), so the greedy sweeps start from the top.
  void begin_rooms(std::size_t max_vertices, std::size_t max_slots, bool descending = false);
  /// @brief Opens vertex @p v with room for @p room arc ends, after the rooms given so far.
  /// @throws out_of_range for @p v beyond max_vertices; invalid_argument when the rooms would
  /// exceed max_slots (nothing changes then).
  void open_vertex(vertex v, std::uint32_t room) {
    if (v >= laid_n_ || room > laid_slots_ - next_slot_) [[unlikely]]
      open_vertex_error(v, room);
    open_vertex_unchecked(v, room);
  }
  /// @brief Ends a build begun with begin_rooms(): @p num_vertices vertices were opened.
  void end_rooms(std::size_t num_vertices) noexcept {
    n_ = num_vertices;
    slots_ = next_slot_;
    clear_terminals();
  }
  /// @brief Sets the capacities of a placed pair (no allocation).
  void set_slot(arc_id slot, double cap, double reverse_cap = 0.0) noexcept {
    cap_[slot] = cap;
    cap_[links_[slot].rev] = reverse_cap;
  }

  /// @brief Sets the capacity of one half of a placed pair (the other keeps its value).
  void set_capacity(arc_id slot, double cap) noexcept { cap_[slot] = cap; }

  /// @brief Sets the terminal capacities of a vertex: source -> v and v -> sink.
  void set_terminal(vertex v, double source_cap, double sink_cap) noexcept {
    src_[v] = source_cap;
    snk_[v] = sink_cap;
  }
  /// @brief Adds to the terminal capacities of a vertex.
  void add_terminal(vertex v, double source_cap, double sink_cap) noexcept {
    src_[v] += source_cap;
    snk_[v] += sink_cap;
  }
  /// @brief Sets every terminal capacity to zero.
  void clear_terminals() noexcept {
    std::fill_n(src_, n_, 0.0);
    std::fill_n(snk_, n_, 0.0);
  }
  [[nodiscard]] std::size_t num_vertices() const noexcept { return n_; }

  /// @brief Computes a maximum preflow and the minimum cut; returns the cut value (infinity
  /// when every cut is infinite). Capacities must be >= 0 and not NaN (asserted).
  double solve();
  /// @brief Residuals up to @p rel times the cut value count as saturated when solve() reads
  /// the sides (default 0: exact). Float rounding can leave a residue of a few ulps on an arc
  /// that is saturated in exact arithmetic, which would move vertices to the sink side and break
  /// the tie rule; the cut read this way exceeds the flow by at most rel * value per cut arc.
  /// @throws invalid_argument unless 0 <= rel < 1e-3.
  void set_tie_tolerance(double rel) {
    if (!(rel >= 0.0 && rel < 1e-3))
      INCISION_THROW(invalid_argument(
          incision::detail::message("partition", "max_flow::set_tie_tolerance: need 0 <= rel < 1e-3")));
    tie_rel_ = rel;
  }
  /// @brief Side of @p v in the last solve's minimum cut (see file comment).
  [[nodiscard]] bool on_source_side(vertex v) const noexcept { return label_[v] > n_; }
  /// @brief The cut value of the last solve.
  [[nodiscard]] double value() const noexcept { return value_; }

  /// @brief What the last solve did, phase by phase (for tests and tuning).
  struct solve_stats {
    int sweeps = 0;                    ///< greedy sweeps run
    int forest_rounds = 0;             ///< forest pushes run
    int phases = 0;                    ///< blocking-flow phases (0: the heuristics finished)
    std::size_t augmenting_paths = 0;  ///< paths augmented by those phases
  };
  [[nodiscard]] const solve_stats& stats() const noexcept { return stats_; }

 private:
  struct link {
    vertex head;
    std::uint32_t rev;  // slot of the reverse half
  };
  struct arc_spec {
    vertex tail, head;
    double cap, reverse_cap;
  };
  static constexpr vertex none = std::numeric_limits<vertex>::max();

  std::size_t n_ = 0;
  std::vector<arc_spec> specs_;     // add_arc path only
  std::vector<std::uint32_t> pos_;  // add_arc path: slot of the forward half of pair i
  bool dirty_ = false;              // specs_ not compiled yet

  // Every array lives in one allocation, carved by layout(): fewer allocations, and a caller
  // that solves one large graph after another gets the same memory back from the allocator
  // instead of fresh pages. The prefix (src_, snk_, first_, end_) keeps its place and contents
  // when the arc slots are added to a layout with the same vertex count.
  std::unique_ptr<std::byte[]> block_;
  std::size_t block_bytes_ = 0;
  std::size_t slots_ = 0;                    // arc slots in use (2m, and the gaps of a roomed build)
  std::size_t laid_n_ = 0, laid_slots_ = 0;  // what the block is carved for
  std::uint32_t next_slot_ = 0;              // a roomed build: the first slot not given to a vertex
  bool descending_ = false;                  // vertices numbered against the flow (begin_rooms)
  double* src_ = nullptr;                    // terminal capacities as set
  double* snk_ = nullptr;
  std::uint32_t* first_ = nullptr;  // n + 1 (degree counts while counting)
  std::uint32_t* end_ = nullptr;    // end of each vertex's arcs (the fill cursor while building)
  std::uint32_t* limit_ = nullptr;  // while building: the end of each vertex's counted or roomed slots
  double* excess_ = nullptr;
  double* sink_res_ = nullptr;
  double* demand_ = nullptr;  // forest push
  double* res_ = nullptr;     // residual capacity per slot
  double* cap_ = nullptr;     // original capacity per slot
  link* links_ = nullptr;     // CSR, 2m
  std::uint32_t* label_ = nullptr;
  std::uint32_t* current_ = nullptr;
  vertex* queue_ = nullptr;
  double value_ = 0.0;
  double tie_rel_ = 0.0;  // set_tie_tolerance
  solve_stats stats_;

  void layout(std::size_t n, std::size_t slots);
  [[nodiscard]] std::size_t carve(std::size_t n, std::size_t slots, std::byte* base) noexcept;
  void compile_specs();
  [[noreturn]] void place_arc_error(vertex u, vertex v) const;
  // place_arc without the checks, for dsl_solver, whose rooms are exact by construction
  // (asserted in debug builds; the partition tests run with assertions on)
  friend class dsl_solver;
  arc_id place_arc_unchecked(vertex u, vertex v, double cap, double reverse_cap) noexcept;
  // begin_rooms without clearing the cursors of unopened vertices: dsl_solver opens every vertex
  // it numbers, which writes them (the clearing was a tenth of its build on ResNet-50)
  void begin_rooms_uncleared(std::size_t max_vertices, std::size_t max_slots, bool descending);
  void open_vertex_unchecked(vertex v, std::uint32_t room) noexcept {
    INCISION_ASSERT(v < laid_n_ && room <= laid_slots_ - next_slot_, "max_flow::open_vertex_unchecked: no room");
    first_[v] = next_slot_;
    end_[v] = next_slot_;
    next_slot_ += room;
    limit_[v] = next_slot_;
  }
  [[noreturn]] void open_vertex_error(vertex v, std::uint32_t room) const;
  bool preflow_heuristics();
  bool greedy_sweep(bool forward) noexcept;
  bool forest_push() noexcept;
  void label_distances(double eps = 0.0) noexcept;
  void augment_paths() noexcept;
  // a push of `d` out of `ex` along a residual `r`: exact zeros, never a near-zero residue
  static double take(double r, double d) noexcept { return d == r ? 0.0 : r - d; }
  static bool routable(double ex) noexcept { return ex > 0.0 && ex < infinity; }
  // moves `d` along slot `a` (d <= its residual)
  void push(std::uint32_t a, double d) noexcept {
    res_[a] = take(res_[a], d);
    res_[links_[a].rev] += d;
  }
  // drains what it can of `ex` (held at v) into v's sink arc, adds it to `value`, returns the rest
  double drain(vertex v, double ex, double& value) noexcept {
    const double sr = sink_res_[v];
    if (!(sr > 0.0)) return ex;
    const double d = ex < sr ? ex : sr;
    sink_res_[v] = take(sr, d);
    value += d;
    return take(ex, d);
  }
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

// Carves the arrays for n vertices and `slots` arc slots out of `base` (nullptr: only
// measures); returns the bytes used. Every array starts on an 8-byte boundary.
inline std::size_t max_flow::carve(std::size_t n, std::size_t slots, std::byte* base) noexcept {
  std::size_t used = 0;
  auto take = [&](auto*& array, std::size_t count) {
    using T = std::remove_pointer_t<std::remove_reference_t<decltype(array)>>;
    if (base != nullptr) array = reinterpret_cast<T*>(base + used);  // implicitly created (C++20)
    used += (count * sizeof(T) + 7) / 8 * 8;
  };
  take(src_, n);  // the prefix
  take(snk_, n);
  take(first_, n + 1);
  take(end_, n);
  take(limit_, n);
  take(excess_, n);
  take(sink_res_, n);
  take(demand_, n);
  take(res_, slots);
  take(cap_, slots);
  take(links_, slots);
  take(label_, n);
  take(current_, n);
  take(queue_, n);
  return used;
}

inline void max_flow::layout(std::size_t n, std::size_t slots) {
  const std::size_t bytes = carve(n, slots, nullptr);
  if (bytes > block_bytes_) {
    auto block = std::make_unique_for_overwrite<std::byte[]>(bytes);
    if (block_ && n == laid_n_) {  // keep the prefix
      const std::size_t prefix = reinterpret_cast<std::byte*>(excess_) - block_.get();
      std::copy_n(block_.get(), prefix, block.get());
    }
    block_ = std::move(block);
    block_bytes_ = bytes;
  }
  (void)carve(n, slots, block_.get());
  n_ = n;
  slots_ = slots;
  laid_n_ = n;
  laid_slots_ = slots;
}

inline max_flow::max_flow(const max_flow& other)
    : n_(other.n_),
      specs_(other.specs_),
      pos_(other.pos_),
      dirty_(other.dirty_),
      slots_(other.slots_),
      laid_n_(other.laid_n_),
      laid_slots_(other.laid_slots_),
      next_slot_(other.next_slot_),
      descending_(other.descending_),
      value_(other.value_),
      tie_rel_(other.tie_rel_),
      stats_(other.stats_) {
  if (other.block_) {
    block_ = std::make_unique_for_overwrite<std::byte[]>(other.block_bytes_);
    block_bytes_ = other.block_bytes_;
    std::copy_n(other.block_.get(), block_bytes_, block_.get());
    (void)carve(laid_n_, laid_slots_, block_.get());
  }
}

// The array pointers travel with the block they point into.
inline void max_flow::swap(max_flow& other) noexcept {
  using std::swap;
  swap(n_, other.n_);
  swap(specs_, other.specs_);
  swap(pos_, other.pos_);
  swap(dirty_, other.dirty_);
  swap(block_, other.block_);
  swap(block_bytes_, other.block_bytes_);
  swap(slots_, other.slots_);
  swap(laid_n_, other.laid_n_);
  swap(laid_slots_, other.laid_slots_);
  swap(next_slot_, other.next_slot_);
  swap(descending_, other.descending_);
  swap(src_, other.src_);
  swap(snk_, other.snk_);
  swap(first_, other.first_);
  swap(end_, other.end_);
  swap(limit_, other.limit_);
  swap(excess_, other.excess_);
  swap(sink_res_, other.sink_res_);
  swap(demand_, other.demand_);
  swap(res_, other.res_);
  swap(cap_, other.cap_);
  swap(links_, other.links_);
  swap(label_, other.label_);
  swap(current_, other.current_);
  swap(queue_, other.queue_);
  swap(value_, other.value_);
  swap(tie_rel_, other.tie_rel_);
  swap(stats_, other.stats_);
}

inline void max_flow::reset(std::size_t num_vertices) {
  layout(num_vertices, 0);
  descending_ = false;
  specs_.clear();
  clear_terminals();
  dirty_ = true;
}

inline void max_flow::reserve(std::size_t num_arcs) { specs_.reserve(num_arcs); }

inline max_flow::arc_id max_flow::add_arc(vertex u, vertex v, double cap, double reverse_cap) {
  if (u >= n_ || v >= n_)
    INCISION_THROW(out_of_range(
        incision::detail::message("partition", "max_flow::add_arc: arc " + std::to_string(u) + " -> " +
                                                   std::to_string(v) + " names a vertex >= " + std::to_string(n_))));
  if (u == v)
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition", "max_flow::add_arc: self loop on vertex " + std::to_string(u))));
  specs_.push_back(arc_spec{u, v, cap, reverse_cap});
  dirty_ = true;
  return static_cast<arc_id>(specs_.size() - 1);
}

inline void max_flow::set_arc(arc_id a, double cap, double reverse_cap) noexcept {
  if (dirty_) {
    specs_[a].cap = cap;
    specs_[a].reverse_cap = reverse_cap;
  } else {
    set_slot(pos_[a], cap, reverse_cap);
  }
}

inline void max_flow::begin_counting(std::size_t num_vertices, std::size_t expected_pairs) {
  layout(num_vertices, 2 * expected_pairs);
  specs_.clear();
  pos_.clear();
  dirty_ = false;
  descending_ = false;
  std::fill_n(first_, n_ + 1, 0U);
  clear_terminals();
}

inline void max_flow::place_arcs() {
  for (std::size_t v = 0; v < n_; ++v) first_[v + 1] += first_[v];
  layout(n_, first_[n_]);
  std::copy_n(first_, n_, end_);  // the fill cursors: each ends at first_[v + 1]
  std::copy_n(first_ + 1, n_, limit_);
}

inline void max_flow::begin_rooms(std::size_t max_vertices, std::size_t max_slots, bool descending) {
  begin_rooms_uncleared(max_vertices, max_slots, descending);
  std::fill_n(end_, n_, 0U);  // an unopened vertex has no room: place_arc rejects it
  std::fill_n(limit_, n_, 0U);
}

inline void max_flow::begin_rooms_uncleared(std::size_t max_vertices, std::size_t max_slots, bool descending) {
  layout(max_vertices, max_slots);
  specs_.clear();
  pos_.clear();
  dirty_ = false;
  descending_ = descending;
  next_slot_ = 0;
}

inline max_flow::arc_id max_flow::place_arc(vertex u, vertex v, double cap, double reverse_cap) {
  // checked in release builds too (two compares per arc end): an overrun corrupts silently
  if (u >= n_ || v >= n_ || u == v || end_[u] >= limit_[u] || end_[v] >= limit_[v]) [[unlikely]]
    place_arc_error(u, v);
  return place_arc_unchecked(u, v, cap, reverse_cap);
}

inline max_flow::arc_id max_flow::place_arc_unchecked(vertex u, vertex v, double cap, double reverse_cap) noexcept {
  INCISION_ASSERT(u < n_ && v < n_ && u != v && end_[u] < limit_[u] && end_[v] < limit_[v],
                  "max_flow::place_arc_unchecked: bad endpoints or no room");
  const std::uint32_t p = end_[u]++;
  const std::uint32_t q = end_[v]++;
  links_[p] = link{v, q};
  links_[q] = link{u, p};
  cap_[p] = cap;
  cap_[q] = reverse_cap;
  return p;
}

inline void max_flow::open_vertex_error(vertex v, std::uint32_t room) const {
  if (v >= laid_n_)
    INCISION_THROW(out_of_range(incision::detail::message("partition", "max_flow::open_vertex: vertex " +
                                                                           std::to_string(v) + " beyond the " +
                                                                           std::to_string(laid_n_) + " laid out")));
  INCISION_THROW(invalid_argument(incision::detail::message(
      "partition", "max_flow::open_vertex: room for " + std::to_string(room) + " more arc ends, only " +
                       std::to_string(laid_slots_ - next_slot_) + " of max_slots left")));
}

inline void max_flow::place_arc_error(vertex u, vertex v) const {
  const std::string arc = "max_flow::place_arc: arc " + std::to_string(u) + " -> " + std::to_string(v);
  if (u >= n_ || v >= n_)
    INCISION_THROW(
        out_of_range(incision::detail::message("partition", arc + " names a vertex >= " + std::to_string(n_))));
  if (u == v) INCISION_THROW(invalid_argument(incision::detail::message("partition", arc + ": self loop")));
  const vertex full = end_[u] >= limit_[u] ? u : v;
  INCISION_THROW(invalid_argument(incision::detail::message(
      "partition", arc + ": vertex " + std::to_string(full) +
                       " has no slot left (more arcs than counted, more than its room, or not opened)")));
}

inline void max_flow::compile_specs() {
  std::fill_n(first_, n_ + 1, 0U);
  for (const arc_spec& a : specs_) count_arc(a.tail, a.head);
  place_arcs();
  pos_.resize(specs_.size());
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    const arc_spec& a = specs_[i];
    pos_[i] = place_arc(a.tail, a.head, a.cap, a.reverse_cap);
  }
  dirty_ = false;
}

// Breadth-first search backwards from the vertices with a sink residual along residual arcs:
// label = distance to the sink, n + 1 when the sink is unreachable.
inline void max_flow::label_distances(double eps) noexcept {
  const auto dead = static_cast<std::uint32_t>(n_ + 1);
  // locals: the compiler cannot tell that stores through the arrays leave the members alone
  std::uint32_t* const label = label_;
  vertex* const queue = queue_;
  const link* const links = links_;
  const double* const res = res_;
  const std::uint32_t* const first = first_;
  const std::uint32_t* const end = end_;
  std::fill_n(label, n_, dead);
  std::size_t qh = 0, qt = 0;
  for (vertex v = 0; v < n_; ++v)
    if (sink_res_[v] > eps) {
      label[v] = 1;
      queue[qt++] = v;
    }
  while (qh < qt) {
    const vertex u = queue[qh++];
    const std::uint32_t du = label[u] + 1;
    for (std::uint32_t a = first[u], e = end[u]; a < e; ++a) {
      const vertex w = links[a].head;
      if (label[w] != dead || !(res[links[a].rev] > eps)) continue;
      label[w] = du;
      queue[qt++] = w;
    }
  }
}

// One sweep in vertex order (see file comment, heuristic 1). Returns whether excess is left.
inline bool max_flow::greedy_sweep(bool forward) noexcept {
  const auto n = static_cast<vertex>(n_);
  bool left = false;
  double value = value_;  // a local: stores through the arrays could alias the member
  for (vertex i = 0; i < n; ++i) {
    const vertex v = forward ? i : n - 1 - i;
    double ex = excess_[v];
    if (!routable(ex)) {
      left = left || ex > 0.0;  // infinite excess: left for the blocking flows
      continue;
    }
    ex = drain(v, ex, value);  // own sink arc first
    const std::uint32_t end = end_[v];
    for (std::uint32_t a = first_[v]; a < end && ex > 0.0; ++a) {  // two-arc paths to the sink
      const vertex w = links_[a].head;
      const double sr = sink_res_[w];
      const double r = res_[a];
      if (!(sr > 0.0) || !(r > 0.0)) continue;
      double d = ex < r ? ex : r;
      if (sr < d) d = sr;
      push(a, d);
      sink_res_[w] = take(sr, d);
      value += d;
      ex = take(ex, d);
    }
    for (std::uint32_t a = first_[v]; a < end && ex > 0.0; ++a) {  // hand the rest on
      const vertex w = links_[a].head;
      const double r = res_[a];
      if ((forward ? w < v : w > v) || !(r > 0.0)) continue;
      const double d = ex < r ? ex : r;
      push(a, d);
      excess_[w] += d;
      ex = take(ex, d);
    }
    excess_[v] = ex;
    left = left || ex > 0.0;
  }
  value_ = value;
  return left;
}

// Heuristic 2 (see file comment). A forest of residual arcs grown breadth-first from every
// vertex with routable excess; label_ holds the tree arc into a vertex (none at a root) and
// queue_ the visiting order. demand_[v] = what v's subtree can absorb: its sink residual plus,
// per child, min(tree arc residual, child's demand). Then, in visiting order, each vertex drains
// what it holds into its own sink arc and passes the rest to its children, capped by their
// demand. Returns whether any flow reached the sink.
inline bool max_flow::forest_push() noexcept {
  std::size_t qt = 0;
  double excess = 0.0;
  std::fill_n(label_, n_, none - 1);  // unvisited
  for (vertex v = 0; v < n_; ++v)
    if (routable(excess_[v])) {
      label_[v] = none;
      queue_[qt++] = v;
      excess += excess_[v];
    }
  // Arcs with a rounding residue (demands are sums, so a push can leave 1e-19 on an arc) would
  // make useless tree arcs that block better ones; the heuristic skips them, the blocking flows
  // that finish the solve still use every positive residual.
  const double floor = 1e-12 * excess;
  for (std::size_t qh = 0; qh < qt; ++qh) {
    const vertex u = queue_[qh];
    for (std::uint32_t a = first_[u], e = end_[u]; a < e; ++a) {
      const vertex w = links_[a].head;
      if (label_[w] == none - 1 && res_[a] > floor) {
        label_[w] = a;
        queue_[qt++] = w;
      }
    }
  }
  for (std::size_t i = 0; i < qt; ++i) demand_[queue_[i]] = sink_res_[queue_[i]];
  for (std::size_t i = qt; i-- > 0;) {
    const vertex v = queue_[i];
    const std::uint32_t a = label_[v];
    if (a == none) continue;
    const double r = res_[a];
    const vertex parent = links_[links_[a].rev].head;
    demand_[parent] += demand_[v] < r ? demand_[v] : r;
  }
  const double before = value_;
  double value = value_;
  for (std::size_t i = 0; i < qt; ++i) {
    const vertex v = queue_[i];
    double ex = excess_[v];
    if (!routable(ex) || !(demand_[v] > 0.0)) continue;
    ex = drain(v, ex, value);
    for (std::uint32_t a = first_[v], e = end_[v]; a < e && ex > 0.0; ++a) {
      const vertex w = links_[a].head;
      if (label_[w] != a) continue;  // not a tree arc of v
      double d = ex < res_[a] ? ex : res_[a];
      if (demand_[w] < d) d = demand_[w];
      if (!(d > 0.0)) continue;
      push(a, d);
      excess_[w] += d;
      ex = take(ex, d);
    }
    excess_[v] = ex;
  }
  value_ = value;
  return value_ > before;
}

// Stages 1 and 2; returns whether any vertex still holds excess.
inline bool max_flow::preflow_heuristics() {
  // along the flow first: forward in vertex order, unless numbered against it
  bool left = greedy_sweep(!descending_);
  stats_.sweeps = 1;
  for (int k = 1; left && k < 3; ++k, ++stats_.sweeps) left = greedy_sweep((k % 2 == 0) != descending_);
  for (int k = 0; left && k < 4; ++k) {
    ++stats_.forest_rounds;
    if (!forest_push()) break;
    left = false;
    for (vertex v = 0; v < n_ && !left; ++v) left = excess_[v] > 0.0;
  }
  return left;
}

// Dinic's blocking flows (Dinic, Soviet Math. Doklady 11, 1970) from the vertices with excess:
// levels are distances to the sink in the residual graph (label_distances), then from each vertex
// with excess, augmenting paths along arcs one level down to a vertex whose sink arc has room,
// retreating from dead ends. Excess that cannot reach the sink stays where it is, so nothing is
// pushed back and forth. A phase without any augmentation proves the preflow maximal.
inline void max_flow::augment_paths() noexcept {
  const auto dead = static_cast<std::uint32_t>(n_ + 1);
  vertex* const path = queue_;  // arcs of the current path (the breadth-first queue is free here)
  for (bool augmented = true; augmented;) {
    augmented = false;
    label_distances();
    ++stats_.phases;
    std::copy_n(first_, n_, current_);
    for (vertex s = 0; s < n_; ++s) {
      std::size_t depth = 0;
      vertex u = s;
      while (excess_[s] > 0.0 && label_[s] < dead) {
        if (label_[u] == 1 && sink_res_[u] > 0.0) {  // reached the sink: augment
          double f = excess_[s] < sink_res_[u] ? excess_[s] : sink_res_[u];
          for (std::size_t i = 0; i < depth; ++i) f = res_[path[i]] < f ? res_[path[i]] : f;
          std::size_t saturated = depth;
          for (std::size_t i = 0; i < depth; ++i) {
            push(path[i], f);
            if (res_[path[i]] == 0.0 && saturated == depth) saturated = i;
          }
          sink_res_[u] = take(sink_res_[u], f);
          excess_[s] = take(excess_[s], f);
          value_ += f;
          augmented = true;
          ++stats_.augmenting_paths;
          depth = saturated;  // retreat to the tail of the first saturated arc
          u = depth == 0 ? s : links_[path[depth - 1]].head;
          continue;
        }
        std::uint32_t a = current_[u];
        const std::uint32_t end = end_[u];
        while (a < end && !(res_[a] > 0.0 && label_[links_[a].head] + 1 == label_[u])) ++a;
        current_[u] = a;
        if (a < end) {  // advance
          path[depth++] = a;
          u = links_[a].head;
          continue;
        }
        label_[u] = dead;  // dead end for this phase
        if (depth == 0) break;
        --depth;
        u = depth == 0 ? s : links_[path[depth - 1]].head;
      }
    }
  }
}

inline double max_flow::solve() {
  if (dirty_) compile_specs();
  const auto n = static_cast<std::uint32_t>(n_);
  std::memcpy(res_, cap_, slots_ * sizeof(double));  // bytes: a roomed build's gaps hold no value
  stats_ = {};
  bool active = false;
  double value = 0.0;  // locals: stores through the arrays could alias the members
  const double* const src = src_;
  const double* const snk = snk_;
  double* const excess = excess_;
  double* const sink_res = sink_res_;
  for (vertex v = 0; v < n; ++v) {
    const double s = src[v], t = snk[v];
    INCISION_ASSERT(s >= 0.0 && t >= 0.0, "max_flow: capacities must be >= 0 and not NaN");
    const double c = s < t ? s : t;
    value += c;
    excess[v] = take(s, c);
    sink_res[v] = take(t, c);
    active = active || s > c;
  }
  value_ = value;
  if (std::isinf(value_)) {
    // an infinite source arc meets an infinite sink arc: every cut is infinite
    std::fill_n(label_, n_, n + 1);
    return value_;
  }
  if (active && preflow_heuristics()) augment_paths();
  // the side: whatever still reaches the sink in the residual graph (through more than rounding)
  label_distances(tie_rel_ * value_);
  return value_;
}

}  // namespace partition
INCISION_END_NAMESPACE
