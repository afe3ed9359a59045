/// @file
/// @brief Pricing: what a placement costs (every partitioner prices its plan here) and evaluate(),
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
#include <incision/partition/cost_table.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {
namespace detail {

/// Prices a placement (no feasibility check).
inline plan price(const layer_graph& g, const cost_table& c, const link_values& l, std::vector<side> placement) {
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
plan evaluate(const layer_graph& g, const Oracle& oracle, const Link& link, std::span<const layer_id> device_layers) {
  INCISION_PARTITION_CHECK_ORACLE("evaluate", Oracle);
  INCISION_PARTITION_CHECK_LINK("evaluate", Link);
  detail::cost_table c;
  detail::read_costs(g, oracle, c);
  const auto l = detail::resolve_link(link);
  std::vector<side> placement(g.size(), side::server);
  for (const layer_id v : device_layers) {
    (void)g.at(v);  // range check
    placement[v] = side::device;
  }
  const std::size_t bad = detail::first_violation(g, placement);
  if (bad != g.size())
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition", "infeasible device set at layer '" + g[static_cast<layer_id>(bad)].name +
                                                   "' (id " + std::to_string(bad) +
                                                   "): inputs must stay on the device and every "
                                                   "predecessor of a device layer must be on the device")));
  return detail::price(g, c, l, std::move(placement));
}

}  // namespace partition
INCISION_END_NAMESPACE
