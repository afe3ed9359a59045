/// @file
/// @brief Chain scan: the latency-optimal cut of a chain by exhaustive O(n) scan.
///
/// Y. Kang, J. Hauswald, C. Gao, A. Rovinski, T. Mudge, J. Mars, L. Tang, "Neurosurgeon:
/// Collaborative Intelligence Between the Cloud and Mobile Edge", ASPLOS 2017.
///
/// The chain's first layer is its input (pinned to the device), so the device set is a prefix of
/// k = 1..n layers: k = 1 ships the raw input (the input layer's out_bytes), k = n runs all on the
/// device. With the input modelled as a layer these n positions are Neurosurgeon's n+1 cut points
/// over the n-1 real layers. Ties go to the larger prefix (more on the device), the same rule as DSL;
/// latencies within detail::tie_rel (relative) of the best count as ties.
#pragma once

#include <incision/config.hpp>
#include <incision/error.hpp>
#include <incision/partition/concepts.hpp>
#include <incision/partition/cost_table.hpp>
#include <incision/partition/detail/tie.hpp>
#include <incision/partition/layer_graph.hpp>
#include <incision/partition/link.hpp>
#include <incision/partition/plan.hpp>
#include <incision/partition/pricing.hpp>

#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Latency-optimal prefix cut of a chain.
/// @throws invalid_argument if @p g is not a chain (message says why).
template <class Oracle, class Link>
[[nodiscard]] plan chain_scan(const layer_graph& g, const Oracle& oracle, const Link& link);
/// @brief Chain scan with the profile stored in @p g and a link of @p bandwidth bytes/s.
[[nodiscard]] inline plan chain_scan(const layer_graph& g, double bandwidth) {
  return chain_scan(g, g, simple_link(bandwidth));
}

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

template <class Oracle, class Link>
plan chain_scan(const layer_graph& g, const Oracle& oracle, const Link& link) {
  INCISION_PARTITION_CHECK_ORACLE("chain_scan", Oracle);
  INCISION_PARTITION_CHECK_LINK("chain_scan", Link);
  g.require_nonempty("chain_scan");
  if (!g.is_chain())
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition",
                                  "chain_scan: the graph is not a chain (a layer has several predecessors or "
                                  "successors, or there are several inputs); use dsl")));
  const auto l = detail::resolve_link(link);
  detail::cost_table c;
  detail::read_costs(g, oracle, c);
  const auto& order = g.topological_order();
  const std::size_t n = order.size();
  // server time of the layers after each prefix, summed from the end (a running difference
  // from the total would carry the total's rounding into every short suffix)
  std::vector<double> server_after(n, 0.0);
  for (std::size_t k = n - 1; k-- > 0;) server_after[k] = server_after[k + 1] + c.srv[order[k + 1]];
  const double download = detail::transfer(c.bytes[order[n - 1]], l.download_bandwidth);
  double device_prefix = 0.0;
  double best = 0.0;
  std::size_t best_k = 0;
  for (std::size_t k = 1; k <= n; ++k) {
    const layer_id v = order[k - 1];
    device_prefix += c.dev[v];
    const double t =
        k == n ? device_prefix
               : device_prefix + detail::transfer(c.bytes[v], l.bandwidth) + server_after[k - 1] + download + l.rtt;
    // the longest prefix within the tie tolerance of the best (best stays the minimum, so the
    // tolerance does not drift along the chain)
    if (k == 1 || detail::tie_or_less(t, best)) best_k = k;
    if (k == 1 || t < best) best = t;
  }
  std::vector<side> placement(n, side::server);
  for (std::size_t k = 0; k < best_k; ++k) placement[order[k]] = side::device;
  return detail::price(g, c, l, std::move(placement));
}

}  // namespace partition
INCISION_END_NAMESPACE
