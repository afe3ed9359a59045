/// @file
/// @brief plan: the result of every partitioner, mapped back to real layer ids; and evaluate(),
/// which prices any feasible device set.
///
/// Latency of a plan (single frame, no pipelining):
///   device_time   = sum of device times of device layers
///   upload_time   = sum over shipped layers of out_bytes / bandwidth (a device layer is shipped,
///                   once, when at least one successor runs on the server)
///   server_time   = sum of server times of server layers
///   download_time = sum over server layers without successors of out_bytes / download_bandwidth
///   rtt           = the link's round-trip time if any layer runs on the server, else 0
///   latency       = device_time + upload_time + server_time + download_time + rtt
/// max_stage = max(device_time, upload_time, server_time, download_time): the pipeline stage that
/// bounds throughput (DADS ECDI-H); the RTT is propagation delay and does not bound throughput.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/layer_graph.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief A partition of the layers between device and server, with its predicted times.
struct plan {
  incision::status status = incision::status::ok;
  std::vector<side> placement;             ///< per layer id
  std::vector<layer_id> device_layers;     ///< ascending ids
  std::vector<layer_id> server_layers;     ///< ascending ids
  std::vector<layer_id> shipped_layers;    ///< device layers whose output is uploaded (each once)
  double shipped_bytes = 0.0;
  double device_time = 0.0;
  double upload_time = 0.0;
  double server_time = 0.0;
  double download_time = 0.0;
  double rtt = 0.0;
  double latency = 0.0;
  double max_stage = 0.0;

  [[nodiscard]] bool on_device(layer_id v) const noexcept { return placement[v] == side::device; }
};

namespace detail {

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
  if constexpr (requires { { o.size() } -> std::convertible_to<std::size_t>; }) {
    if (o.size() < n)
      INCISION_THROW(invalid_argument(incision::detail::message(
          "partition", "cost oracle covers " + std::to_string(o.size()) + " layers, the graph has " +
                           std::to_string(n))));
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
      INCISION_THROW(oracle_error(incision::detail::message(
          "partition", "cost oracle returned a negative or non-finite value for layer '" +
                           g[v].name + "' (id " + std::to_string(v) + ")")));
}

inline void check_link(const link_values& l) {
  if (!(l.bandwidth > 0.0) || !(l.download_bandwidth > 0.0) || !(l.rtt >= 0.0) || !std::isfinite(l.rtt))
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "link: bandwidth and download_bandwidth must be > 0 and rtt finite and >= 0")));
}

inline double transfer(double bytes, double rate) noexcept {
  return bytes == 0.0 ? 0.0 : bytes / rate;
}

/// Prices a placement (no feasibility check).
inline plan price(const layer_graph& g, const cost_table& c, const link_values& l,
                  std::vector<side> placement) {
  plan p;
  const std::size_t n = g.size();
  const side* const at = placement.data();
  std::size_t on_device = 0;
  for (std::size_t v = 0; v < n; ++v) on_device += at[v] == side::device ? 1 : 0;
  // exact sizes, ids written through pointers, sums in locals: no capacity check per layer,
  // and no allocator call in the loop after which the plan's fields would be reloaded
  p.device_layers.resize(on_device);
  p.server_layers.resize(n - on_device);
  p.shipped_layers.resize(on_device);
  layer_id* device_out = p.device_layers.data();
  layer_id* server_out = p.server_layers.data();
  layer_id* shipped_out = p.shipped_layers.data();
  // two sets of sums, for even and odd ids: with one, every add waits for the previous one
  // (4 cycles apiece), which bounded this loop
  struct sums {
    double device = 0.0, upload = 0.0, server = 0.0, download = 0.0, shipped_bytes = 0.0;
  } even, odd;
  const layer_graph::flat_view& adj = g.flat();
  const auto add = [&](layer_id v, sums& sum) INCISION_ALWAYS_INLINE_LAMBDA {
    const std::span<const layer_id> succ = adj.successors(v);
    if (at[v] == side::device) {
      *device_out++ = v;
      sum.device += c.dev[v];
      if (std::any_of(succ.begin(), succ.end(), [at](layer_id w) { return at[w] == side::server; })) {
        *shipped_out++ = v;
        sum.shipped_bytes += c.bytes[v];
        sum.upload += transfer(c.bytes[v], l.bandwidth);
      }
    } else {
      *server_out++ = v;
      sum.server += c.srv[v];
      if (succ.empty()) sum.download += transfer(c.bytes[v], l.download_bandwidth);
    }
  };
  layer_id v = 0;
  for (; v + 1 < n; v += 2) {
    add(v, even);
    add(v + 1, odd);
  }
  if (v < n) add(v, even);
  p.shipped_layers.resize(static_cast<std::size_t>(shipped_out - p.shipped_layers.data()));
  p.shipped_bytes = even.shipped_bytes + odd.shipped_bytes;
  p.device_time = even.device + odd.device;
  p.upload_time = even.upload + odd.upload;
  p.server_time = even.server + odd.server;
  p.download_time = even.download + odd.download;
  p.rtt = on_device < n ? l.rtt : 0.0;
  p.latency = p.device_time + p.upload_time + p.server_time + p.download_time + p.rtt;
  p.max_stage = std::max(std::max(p.device_time, p.upload_time), std::max(p.server_time, p.download_time));
  p.placement = std::move(placement);
  return p;
}

/// The first layer (by id) that makes a placement infeasible, or g.size() if feasible.
inline std::size_t first_violation(const layer_graph& g, const std::vector<side>& placement) {
  for (layer_id v = 0; v < g.size(); ++v) {
    if (placement[v] != side::device) continue;
    for (const layer_id u : g.predecessors(v))
      if (placement[u] == side::server) return v;
  }
  for (layer_id v = 0; v < g.size(); ++v)
    if (g.is_input(v) && placement[v] == side::server) return v;
  return g.size();
}

}  // namespace detail

/// @brief Prices the feasible device set @p device_layers under @p oracle and @p link.
/// @throws out_of_range for an unknown id; invalid_argument if the set is infeasible (an input
/// on the server, or a device layer with a server predecessor; the message names the layer).
template <class Oracle, class Link>
plan evaluate(const layer_graph& g, const Oracle& oracle, const Link& link,
              std::span<const layer_id> device_layers) {
  INCISION_PARTITION_CHECK_ORACLE("evaluate", Oracle);
  INCISION_PARTITION_CHECK_LINK("evaluate", Link);
  detail::cost_table c;
  detail::read_costs(g, oracle, c);
  const auto l = detail::resolve_link(link);
  detail::check_link(l);
  std::vector<side> placement(g.size(), side::server);
  for (const layer_id v : device_layers) {
    (void)g.at(v);  // range check
    placement[v] = side::device;
  }
  const std::size_t bad = detail::first_violation(g, placement);
  if (bad != g.size())
    INCISION_THROW(invalid_argument(incision::detail::message(
        "partition", "infeasible device set at layer '" + g[static_cast<layer_id>(bad)].name + "' (id " +
                         std::to_string(bad) + "): inputs must stay on the device and every "
                         "predecessor of a device layer must be on the device")));
  return detail::price(g, c, l, std::move(placement));
}

}  // namespace partition
INCISION_END_NAMESPACE
