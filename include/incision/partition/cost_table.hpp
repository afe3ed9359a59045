/// @file
/// @brief cost_table: the per-layer costs a partitioner reads once from an oracle, validated
/// (oracle_error names the first bad layer). Internal; exposed read-only by dsl_solver::costs().
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/layer_graph.hpp>

#include <concepts>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition::detail {

/// Costs read once from an oracle, validated; indexed by layer id. When the graph is its own
/// oracle they are views of its columns (validated when they were set, nothing to copy),
/// else a copy.
class cost_table {
 public:
  std::span<const double> dev, srv, bytes;

  cost_table() = default;
  cost_table(const cost_table& other) : own_(other.own_) { copy_views(other); }
  cost_table(cost_table&& other) noexcept = default;  // the views move with the buffer
  cost_table& operator=(const cost_table& other) {
    if (this != &other) {
      own_ = other.own_;
      copy_views(other);
    }
    return *this;
  }
  cost_table& operator=(cost_table&& other) noexcept = default;
  ~cost_table() = default;

  /// Views the columns of @p g.
  void view(const layer_graph& g) noexcept {
    own_.clear();
    dev = g.device_times();
    srv = g.server_times();
    bytes = g.out_bytes();
  }
  /// Room for a copy of @p n layers' costs: dev, srv and bytes become writable columns.
  [[nodiscard]] std::span<double> own(std::size_t n) {
    own_.resize(3 * n);
    view_own();
    return own_;
  }

 private:
  std::vector<double> own_;  // dev, srv, bytes back to back when copied
  void view_own() noexcept {
    const std::size_t n = own_.size() / 3;
    dev = std::span<const double>(own_.data(), n);
    srv = std::span<const double>(own_.data() + n, n);
    bytes = std::span<const double>(own_.data() + 2 * n, n);
  }
  // after own_ was copied from other: a copy points at its own buffer, a view at the same graph
  void copy_views(const cost_table& other) noexcept {
    if (!own_.empty()) return view_own();
    dev = other.dev;
    srv = other.srv;
    bytes = other.bytes;
  }
};

template <class Oracle>
void read_costs(const layer_graph& g, const Oracle& o, cost_table& c) {
  if constexpr (std::is_same_v<Oracle, layer_graph>) {
    if (&o == &g) {
      c.view(g);
      return;
    }
  }
  const std::size_t n = g.size();
  if constexpr (requires {
                  { o.size() } -> std::convertible_to<std::size_t>;
                }) {
    if (o.size() < n)
      INCISION_THROW(
          invalid_argument(incision::detail::message("partition", "cost oracle covers " + std::to_string(o.size()) +
                                                                      " layers, the graph has " + std::to_string(n))));
  }
  const std::span<double> out = c.own(n);
  double* const dev = out.data();
  double* const srv = dev + n;
  double* const bytes = srv + n;
  // Validity is accumulated without branches; the message names the first bad layer.
  auto valid = [](double x) { return (x >= 0.0) & (x < std::numeric_limits<double>::infinity()); };  // NaN: false
  bool ok = true;
  for (layer_id v = 0; v < n; ++v) {
    const double d = static_cast<double>(o.compute_time(v, side::device));
    const double s = static_cast<double>(o.compute_time(v, side::server));
    const double b = static_cast<double>(o.output_bytes(v));
    ok &= valid(d) & valid(s) & valid(b);
    dev[v] = d;
    srv[v] = s;
    bytes[v] = b;
  }
  if (ok) return;
  for (layer_id v = 0; v < n; ++v)
    if (!(valid(dev[v]) && valid(srv[v]) && valid(bytes[v])))
      INCISION_THROW(oracle_error(
          incision::detail::message("partition", "cost oracle returned a negative or non-finite value for layer '" +
                                                     g[v].name + "' (id " + std::to_string(v) + ")")));
}

}  // namespace partition::detail
INCISION_END_NAMESPACE
