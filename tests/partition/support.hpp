// Shared helpers of the partition tests: random DAGs and brute-force oracles.
#pragma once

#include <incision/partition.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace partition_test {
namespace ip = incision::partition;

/// Random DAG of n layers. Edges i -> j (positions in a hidden topological order) appear with
/// probability p; with shuffle_ids the ids are a random permutation of the positions.
/// Costs: integer-valued (ties, zeros) when integral, else uniform floats with some zeros.
inline ip::layer_graph random_dag(std::mt19937_64& rng, std::size_t n, double p, bool integral, bool shuffle_ids) {
  std::vector<std::uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0U);
  if (shuffle_ids) std::shuffle(perm.begin(), perm.end(), rng);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::uniform_int_distribution<int> small(0, 4);
  auto draw = [&]() -> double {
    if (integral) return static_cast<double>(small(rng));
    const double x = unif(rng);
    return x < 0.1 ? 0.0 : unif(rng) * 10.0;
  };
  ip::layer_graph g;
  // layer with id k sits at position pos[k]
  std::vector<std::uint32_t> pos(n);
  for (std::size_t i = 0; i < n; ++i) pos[perm[i]] = static_cast<std::uint32_t>(i);
  for (std::size_t k = 0; k < n; ++k) g.add_layer("L" + std::to_string(k), draw(), draw(), draw());
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (unif(rng) < p) edges.emplace_back(perm[i], perm[j]);
  std::shuffle(edges.begin(), edges.end(), rng);
  for (const auto& [a, b] : edges) g.add_edge(a, b);
  return g;
}

/// Random chain of n layers (ids in chain order).
inline ip::layer_graph random_chain(std::mt19937_64& rng, std::size_t n, bool integral) {
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::uniform_int_distribution<int> small(0, 4);
  ip::layer_graph g;
  for (std::size_t k = 0; k < n; ++k) {
    auto d = [&] { return integral ? static_cast<double>(small(rng)) : unif(rng) * 10.0; };
    g.add_layer("L" + std::to_string(k), d(), d(), d());
    if (k > 0) g.add_edge(static_cast<std::uint32_t>(k - 1), static_cast<std::uint32_t>(k));
  }
  return g;
}

/// Calls f(placement) for every feasible placement (inputs on the device, predecessor-closed
/// device set), by enumeration in topological order.
template <class F>
void for_each_feasible(const ip::layer_graph& g, F&& f) {
  const auto& order = g.topological_order();
  std::vector<ip::side> pl(g.size(), ip::side::server);
  auto rec = [&](auto& self, std::size_t k) -> void {
    if (k == order.size()) {
      f(pl);
      return;
    }
    const auto v = order[k];
    bool can_device = true;
    for (const auto u : g.predecessors(v)) can_device = can_device && pl[u] == ip::side::device;
    if (can_device) {
      pl[v] = ip::side::device;
      self(self, k + 1);
    }
    if (!g.is_input(v)) {
      pl[v] = ip::side::server;
      self(self, k + 1);
    }
    pl[v] = ip::side::server;
  };
  rec(rec, 0);
}

/// Independent pricing (written separately from plan.hpp): latency and max stage of a placement.
struct priced {
  double latency, max_stage;
};
inline priced price(const ip::layer_graph& g, const std::vector<ip::side>& pl, double bw, double rtt = 0.0,
                    double down = std::numeric_limits<double>::infinity()) {
  double dev = 0, up = 0, srv = 0, dl = 0;
  bool any = false;
  for (ip::layer_id v = 0; v < g.size(); ++v) {
    if (pl[v] == ip::side::device) {
      dev += g[v].device_time;
      const auto& s = g.successors(v);
      if (std::any_of(s.begin(), s.end(), [&](auto w) { return pl[w] == ip::side::server; })) up += g[v].out_bytes / bw;
    } else {
      any = true;
      srv += g[v].server_time;
      if (g.successors(v).empty() && std::isfinite(down)) dl += g[v].out_bytes / down;
    }
  }
  return {dev + up + srv + dl + (any ? rtt : 0.0), std::max({dev, up, srv, dl})};
}

struct brute_result {
  double best_latency = std::numeric_limits<double>::infinity();
  double best_max_stage = std::numeric_limits<double>::infinity();
  std::vector<ip::side> union_of_optima;  // device if device in some latency-optimal plan
};
inline brute_result brute_force(const ip::layer_graph& g, double bw, double rtt = 0.0,
                                double down = std::numeric_limits<double>::infinity()) {
  brute_result r;
  r.union_of_optima.assign(g.size(), ip::side::server);
  for_each_feasible(g, [&](const std::vector<ip::side>& pl) {
    const priced p = price(g, pl, bw, rtt, down);
    r.best_max_stage = std::min(r.best_max_stage, p.max_stage);
    if (p.latency < r.best_latency) {
      r.best_latency = p.latency;
      r.union_of_optima.assign(g.size(), ip::side::server);
    }
    if (p.latency == r.best_latency)
      for (ip::layer_id v = 0; v < g.size(); ++v)
        if (pl[v] == ip::side::device) r.union_of_optima[v] = ip::side::device;
  });
  return r;
}

/// The union of the device sets of every plan whose latency is within @p rel (relative) of the
/// best: the device set the tie rule must return when the exact optima are the only plans that
/// close (integer costs at a rational bandwidth: other plans differ by far more than rounding).
inline std::vector<ip::side> union_of_near_optima(const ip::layer_graph& g, double bw, double rtt = 0.0,
                                                  double down = std::numeric_limits<double>::infinity(),
                                                  double rel = 1e-12) {
  double best = std::numeric_limits<double>::infinity();
  for_each_feasible(
      g, [&](const std::vector<ip::side>& pl) { best = std::min(best, price(g, pl, bw, rtt, down).latency); });
  std::vector<ip::side> u(g.size(), ip::side::server);
  for_each_feasible(g, [&](const std::vector<ip::side>& pl) {
    if (price(g, pl, bw, rtt, down).latency > best + rel * best) return;
    for (ip::layer_id v = 0; v < g.size(); ++v)
      if (pl[v] == ip::side::device) u[v] = ip::side::device;
  });
  return u;
}

inline bool close(double a, double b, double rel = 1e-9) {
  return std::abs(a - b) <= rel * std::max({1.0, std::abs(a), std::abs(b)});
}

}  // namespace partition_test
