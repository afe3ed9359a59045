/// @file
/// @brief The layer graph: a validated DAG of DNN layers with per-layer device time, server
/// time and output bytes.
///
/// Semantics shared by every partitioner: a layer with no predecessors is an *input*; it is
/// produced on the device and pinned there, and its `out_bytes` is what shipping the raw input
/// costs. A device set is feasible when it holds every input and every predecessor of its
/// members (data flows device -> server once).
#pragma once

#include <incision/config.hpp>
#include <incision/detail/reserve.hpp>
#include <incision/detail/utf8.hpp>
#include <incision/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Dense layer index: 0, 1, 2, ... in insertion order.
using layer_id = std::uint32_t;

/// @brief Where a layer runs.
enum class side : std::uint8_t { device, server };

/// @brief One layer's profile. Units: seconds and bytes.
///
/// `type` and `macs` are optional metadata that no partitioner reads: they describe the layer
/// for learners whose arm contexts count the work left to the server by kind (ANS), and for
/// exporters and tools.
struct layer {
  std::string name;
  double device_time = 0.0;  ///< compute time on the device, seconds
  double server_time = 0.0;  ///< compute time on the server, seconds
  double out_bytes = 0.0;    ///< bytes of the layer's output tensor
  std::string type;          ///< operator kind, e.g. "conv", "linear", "relu"; empty: unknown
  double macs = 0.0;         ///< multiply-accumulate operations of one inference; 0: unknown
};

/// @brief A DAG of layers. Every mutation validates its input and leaves the graph unchanged
/// when it throws (strong guarantee).
///
/// It also models the cost-oracle concept (see concepts.hpp): `compute_time(id, side)` and
/// `output_bytes(id)` read the stored profile.
class layer_graph {
 public:
  layer_graph() = default;

  /// @brief Adds a layer and returns its id (ids are dense, in insertion order).
  /// @throws invalid_argument if a time, size or MAC count is negative, NaN or infinite (message
  /// names the layer), or if @p name or @p type is not valid UTF-8.
  layer_id add_layer(std::string name, double device_time, double server_time, double out_bytes, std::string type = {},
                     double macs = 0.0);

  /// @brief Adds the data dependency @p from -> @p to.
  /// @throws out_of_range for an unknown id; invalid_argument for a self loop, a duplicate edge
  /// or an edge that would close a cycle (messages name the layers).
  /// Cost: O(1) while every edge goes from a smaller to a larger id; otherwise a two-way search
  /// whose work is about twice the smaller of {layers reachable from @p to, layers reaching
  /// @p from}, so chains and trees build in linear time in any order.
  void add_edge(layer_id from, layer_id to);

  /// @brief Replaces the profile values of one layer (validated like add_layer).
  void set_costs(layer_id v, double device_time, double server_time, double out_bytes);
  /// @brief Replaces the metadata of one layer (validated like add_layer).
  void set_metadata(layer_id v, std::string type, double macs);

  [[nodiscard]] std::size_t size() const noexcept { return layers_.size(); }
  [[nodiscard]] std::size_t num_edges() const noexcept { return num_edges_; }
  [[nodiscard]] bool empty() const noexcept { return layers_.empty(); }
  [[nodiscard]] const layer& operator[](layer_id v) const noexcept { return layers_[v]; }
  /// @brief Checked access. @throws out_of_range
  [[nodiscard]] const layer& at(layer_id v) const;
  [[nodiscard]] const std::vector<layer_id>& successors(layer_id v) const noexcept { return succ_[v]; }
  [[nodiscard]] const std::vector<layer_id>& predecessors(layer_id v) const noexcept { return pred_[v]; }
  [[nodiscard]] bool is_input(layer_id v) const noexcept { return pred_[v].empty(); }
  /// @brief All edges (from, to) in insertion order.
  [[nodiscard]] const std::vector<std::pair<layer_id, layer_id>>& edges() const noexcept { return edges_; }
  /// @brief A topological order (Kahn's algorithm, smallest id first among ready layers).
  /// Computed once and cached with flat(): the first call of either after a mutation writes
  /// the cache, so concurrent const use from several threads needs one call beforehand.
  [[nodiscard]] const std::vector<layer_id>& topological_order() const;

  /// @brief The successor and predecessor lists, each in one array (compressed rows): what the
  /// partitioners' hot loops read (a few contiguous kilobytes instead of one heap block per
  /// layer). Same order as successors(v) and predecessors(v); cached like topological_order().
  struct flat_view {
    std::vector<std::uint32_t> first;       ///< n + 1 offsets into succ
    std::vector<layer_id> succ;             ///< the successors of v: succ[first[v] .. first[v + 1])
    std::vector<std::uint32_t> pred_first;  ///< n + 1 offsets into pred
    std::vector<layer_id> pred;             ///< the predecessors of v, likewise
    [[nodiscard]] std::span<const layer_id> successors(layer_id v) const noexcept {
      return {succ.data() + first[v], succ.data() + first[v + 1]};
    }
    [[nodiscard]] std::span<const layer_id> predecessors(layer_id v) const noexcept {
      return {pred.data() + pred_first[v], pred.data() + pred_first[v + 1]};
    }
    [[nodiscard]] std::uint32_t in_degree(layer_id v) const noexcept { return pred_first[v + 1] - pred_first[v]; }
  };
  [[nodiscard]] const flat_view& flat() const;
  /// @brief True when the graph is a single path 0 -> ... in some order (each layer has at most
  /// one predecessor and one successor, one input).
  [[nodiscard]] bool is_chain() const noexcept;

  // cost-oracle interface
  [[nodiscard]] double compute_time(layer_id v, side s) const noexcept {
    return s == side::device ? device_time_[v] : server_time_[v];
  }
  [[nodiscard]] double output_bytes(layer_id v) const noexcept { return out_bytes_[v]; }
  /// @brief The profile as columns indexed by layer id (what the partitioners read when the
  /// graph is its own oracle: contiguous, and validated already).
  [[nodiscard]] std::span<const double> device_times() const noexcept { return device_time_; }
  [[nodiscard]] std::span<const double> server_times() const noexcept { return server_time_; }
  [[nodiscard]] std::span<const double> out_bytes() const noexcept { return out_bytes_; }

  /// @brief Throws invalid_argument when the graph has no layer.
  void require_nonempty(std::string_view who) const;

 private:
  std::vector<layer> layers_;
  // the profile again as columns, kept equal to layers_ by every mutation
  std::vector<double> device_time_, server_time_, out_bytes_;
  std::vector<std::vector<layer_id>> succ_, pred_;
  std::vector<std::pair<layer_id, layer_id>> edges_;
  std::size_t num_edges_ = 0;
  bool ids_topological_ = true;  // every edge goes from a smaller to a larger id
  // derived from the edges on first use after a mutation (see topological_order)
  mutable std::vector<layer_id> topo_;
  mutable flat_view flat_;
  mutable bool cache_valid_ = false;

  static void check_value(std::string_view layer_name, std::string_view what, double x);
  static void check_text(std::string_view what, std::string_view text, layer_id id);
  // scratch of the cycle check (reaches), kept between calls
  std::vector<std::uint32_t> mark_;
  std::uint32_t epoch_ = 0;
  std::vector<layer_id> forward_, backward_;
  [[nodiscard]] bool reaches(layer_id to, layer_id from);
  void refresh_cache() const;
  [[nodiscard]] std::string label(layer_id v) const;
};

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

inline void layer_graph::check_value(std::string_view layer_name, std::string_view what, double x) {
  if (!std::isfinite(x) || x < 0.0)
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition", "layer '" + std::string(layer_name) + "': " + std::string(what) +
                                                   " must be finite and >= 0, got " + std::to_string(x))));
}

inline std::string layer_graph::label(layer_id v) const {
  return "'" + layers_[v].name + "' (id " + std::to_string(v) + ")";
}

inline void layer_graph::check_text(std::string_view what, std::string_view text, layer_id id) {
  // the message shows no byte of the text: it must decode itself
  if (!incision::detail::valid_utf8(text))
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "layer " + std::to_string(id) + ": " + std::string(what) + " is not valid UTF-8")));
}

inline layer_id layer_graph::add_layer(std::string name, double device_time, double server_time, double out_bytes,
                                       std::string type, double macs) {
  check_text("name", name, static_cast<layer_id>(layers_.size()));
  check_text("type", type, static_cast<layer_id>(layers_.size()));
  check_value(name, "device_time", device_time);
  check_value(name, "server_time", server_time);
  check_value(name, "out_bytes", out_bytes);
  check_value(name, "macs", macs);
  if (layers_.size() >= static_cast<std::size_t>(UINT32_MAX / 4))
    INCISION_THROW(invalid_argument(incision::detail::message("partition", "too many layers")));
  incision::detail::reserve_one_more(layers_);
  incision::detail::reserve_one_more(succ_);
  incision::detail::reserve_one_more(pred_);
  incision::detail::reserve_one_more(device_time_);
  incision::detail::reserve_one_more(server_time_);
  incision::detail::reserve_one_more(out_bytes_);
  layers_.push_back(layer{std::move(name), device_time, server_time, out_bytes, std::move(type), macs});
  device_time_.push_back(device_time);
  server_time_.push_back(server_time);
  out_bytes_.push_back(out_bytes);
  succ_.emplace_back();
  pred_.emplace_back();
  cache_valid_ = false;
  return static_cast<layer_id>(layers_.size() - 1);
}

inline void layer_graph::set_costs(layer_id v, double device_time, double server_time, double out_bytes) {
  const layer& l = at(v);
  check_value(l.name, "device_time", device_time);
  check_value(l.name, "server_time", server_time);
  check_value(l.name, "out_bytes", out_bytes);
  layers_[v].device_time = device_time_[v] = device_time;
  layers_[v].server_time = server_time_[v] = server_time;
  layers_[v].out_bytes = out_bytes_[v] = out_bytes;
}

inline void layer_graph::set_metadata(layer_id v, std::string type, double macs) {
  check_value(at(v).name, "macs", macs);
  check_text("type", type, v);
  layers_[v].type = std::move(type);
  layers_[v].macs = macs;
}

inline const layer& layer_graph::at(layer_id v) const {
  if (v >= layers_.size())
    INCISION_THROW(out_of_range(incision::detail::message(
        "partition",
        "layer id " + std::to_string(v) + " out of range (graph has " + std::to_string(layers_.size()) + " layers)")));
  return layers_[v];
}

// Does `to` reach `from`? A search forward from `to` and one backward from `from`, one vertex
// each in turn, until they meet (a path) or one runs out (none). The work is about twice the
// smaller of the two reachable sets, so a chain built from either end costs O(1) per edge (one
// search direction finds nothing new), where a one-way search would walk the whole chain.
// The marks are epochs in a buffer kept between calls: no O(n) clearing per edge.
inline bool layer_graph::reaches(layer_id to, layer_id from) {
  const std::size_t n = layers_.size();
  if (mark_.size() < n) mark_.resize(std::max(n, 2 * mark_.size()), 0);  // geometric
  if (epoch_ >= UINT32_MAX - 2) {                                        // wrap: forget old marks
    std::fill(mark_.begin(), mark_.end(), 0U);
    epoch_ = 0;
  }
  epoch_ += 2;
  const std::uint32_t fwd = epoch_, bwd = epoch_ + 1;
  forward_.clear();
  backward_.clear();
  forward_.push_back(to);
  backward_.push_back(from);
  mark_[to] = fwd;
  if (mark_[from] == fwd) return true;
  mark_[from] = bwd;
  while (!forward_.empty() && !backward_.empty()) {
    const layer_id u = forward_.back();
    forward_.pop_back();
    for (const layer_id w : succ_[u]) {
      if (mark_[w] == bwd) return true;
      if (mark_[w] != fwd) {
        mark_[w] = fwd;
        forward_.push_back(w);
      }
    }
    const layer_id x = backward_.back();
    backward_.pop_back();
    for (const layer_id w : pred_[x]) {
      if (mark_[w] == fwd) return true;
      if (mark_[w] != bwd) {
        mark_[w] = bwd;
        backward_.push_back(w);
      }
    }
  }
  return false;
}

inline void layer_graph::add_edge(layer_id from, layer_id to) {
  if (from >= layers_.size() || to >= layers_.size())
    INCISION_THROW(out_of_range(
        incision::detail::message("partition", "edge " + std::to_string(from) + " -> " + std::to_string(to) +
                                                   " names a layer that does not exist (graph has " +
                                                   std::to_string(layers_.size()) + " layers)")));
  if (from == to)
    INCISION_THROW(invalid_argument(incision::detail::message("partition", "self loop on layer " + label(from))));
  // the shorter of the two lists: a hub with many consumers (or producers) stays O(1) per edge
  const bool by_succ = succ_[from].size() <= pred_[to].size();
  const auto& s = by_succ ? succ_[from] : pred_[to];
  if (std::find(s.begin(), s.end(), by_succ ? to : from) != s.end())
    INCISION_THROW(
        invalid_argument(incision::detail::message("partition", "duplicate edge " + label(from) + " -> " + label(to))));
  const bool ordered = from < to;
  if (!(ordered && ids_topological_) && reaches(to, from))
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition", "edge " + label(from) + " -> " + label(to) + " would close a cycle")));
  incision::detail::reserve_one_more(edges_);
  incision::detail::reserve_one_more(succ_[from]);
  incision::detail::reserve_one_more(pred_[to]);
  edges_.emplace_back(from, to);
  succ_[from].push_back(to);
  pred_[to].push_back(from);
  ++num_edges_;
  ids_topological_ = ids_topological_ && ordered;
  cache_valid_ = false;
}

inline const std::vector<layer_id>& layer_graph::topological_order() const {
  refresh_cache();
  return topo_;
}

inline const layer_graph::flat_view& layer_graph::flat() const {
  refresh_cache();
  return flat_;
}

inline void layer_graph::refresh_cache() const {
  if (cache_valid_) return;
  const std::size_t n = layers_.size();
  std::vector<layer_id> order;
  order.reserve(n);
  if (ids_topological_) {
    for (std::size_t i = 0; i < n; ++i) order.push_back(static_cast<layer_id>(i));
  } else {
    std::vector<std::size_t> indeg(n);
    std::priority_queue<layer_id, std::vector<layer_id>, std::greater<>> ready;
    for (std::size_t i = 0; i < n; ++i) {
      indeg[i] = pred_[i].size();
      if (indeg[i] == 0) ready.push(static_cast<layer_id>(i));
    }
    while (!ready.empty()) {
      const layer_id u = ready.top();
      ready.pop();
      order.push_back(u);
      for (const layer_id w : succ_[u])
        if (--indeg[w] == 0) ready.push(w);
    }
  }
  flat_view flat;
  const auto compress = [n, this](const std::vector<std::vector<layer_id>>& lists, std::vector<std::uint32_t>& first,
                                  std::vector<layer_id>& flat_lists) {
    first.reserve(n + 1);
    flat_lists.reserve(num_edges_);
    first.push_back(0);
    for (const auto& l : lists) {
      flat_lists.insert(flat_lists.end(), l.begin(), l.end());
      first.push_back(static_cast<std::uint32_t>(flat_lists.size()));
    }
  };
  compress(succ_, flat.first, flat.succ);
  compress(pred_, flat.pred_first, flat.pred);
  topo_ = std::move(order);
  flat_ = std::move(flat);
  cache_valid_ = true;
}

inline bool layer_graph::is_chain() const noexcept {
  std::size_t inputs = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (succ_[i].size() > 1 || pred_[i].size() > 1) return false;
    inputs += pred_[i].empty() ? 1U : 0U;
  }
  return inputs == 1;
}

inline void layer_graph::require_nonempty(std::string_view who) const {
  if (layers_.empty())
    INCISION_THROW(
        invalid_argument(incision::detail::message("partition", std::string(who) + ": the layer graph is empty")));
}

}  // namespace partition
INCISION_END_NAMESPACE
