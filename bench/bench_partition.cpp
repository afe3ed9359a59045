// DSL build + solve: incision's engine vs LEMON Preflow (runMinCut) and Boost
// boykov_kolmogorov_max_flow, each peer given the best input a competent user would give it.
//
// "reduced" (the headline ratios): the peers get the same reduced cut graph dsl() solves, as a
// precomputed arc list: inputs contracted into the source (they are pinned to the device), free
// layers folded into their producer, infinite arcs as big-M = 1 + the sum of the finite
// capacities. This reduction is written here independently of dsl.hpp, and the registration
// checks that every peer's value plus the inputs' device times equals dsl()'s latency.
// "naive" (labelled as such, not a headline): the corrected DSL graph over every layer with 1e30
// for infinity, what a user who transcribes the paper's construction would hand a solver.
// Peer timings cover building their graph from the list and solving; ours covers dsl(): reading
// the costs from the layer graph, building the cut graph, solving and pricing the plan.
// incision_kept is the same on a dsl_solver the caller keeps (dsl_solver::run: buffers reused);
// incision_resolve re-solves a built graph at a new rate (solve_cut: no build, no plan).
#include <incision/partition.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#if defined(INCISION_BENCH_HAVE_LEMON)
#include <lemon/preflow.h>
#include <lemon/smart_graph.h>
#endif
#if defined(INCISION_BENCH_HAVE_BOOST)
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/boykov_kolmogorov_max_flow.hpp>
#endif

namespace ip = incision::partition;

namespace {

// The msr-fiddle profiles' own link rate (2^31 B/s reproduces their edge costs), as in the peer
// measurements; a slow-link variant (100 Mbit/s) is registered as well.
constexpr double native_rate = 2147483648.0;
constexpr double slow_rate = 12.5e6;

ip::layer_graph msr(const std::string& file) {
  return ip::load_msr_json(std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle" / file);
}

// Synthetic ResNet/Inception-like DAG: a backbone chain, a residual skip every 3 layers, and a
// 3-way branch-and-merge block every 16 layers. Costs random (fixed seed).
ip::layer_graph synthetic(std::size_t n) {
  std::mt19937_64 rng(n);
  std::uniform_real_distribution<double> t(1e-4, 5e-3), b(1e4, 2e6);
  ip::layer_graph g;
  for (std::size_t i = 0; i < n; ++i) {
    std::string name = std::to_string(i);  // not "L" + to_string: GCC 12 -O3 warns (-Wrestrict, a false positive)
    name.insert(name.begin(), 'L');
    g.add_layer(std::move(name), t(rng), t(rng) * 0.2, b(rng));
  }
  for (std::size_t i = 1; i < n; ++i) {
    const auto v = static_cast<ip::layer_id>(i);
    if (i % 16 == 4 && i + 4 < n) {  // i-1 -> {i, i+1, i+2} -> i+3
      g.add_edge(v - 1, v);
      g.add_edge(v - 1, v + 1);
      g.add_edge(v - 1, v + 2);
      g.add_edge(v, v + 3);
      g.add_edge(v + 1, v + 3);
      g.add_edge(v + 2, v + 3);
      i += 3;
      continue;
    }
    g.add_edge(v - 1, v);
    if (i % 3 == 0 && i >= 3 && (i - 3) % 16 != 4) g.add_edge(v - 3, v);
  }
  return g;
}

struct arc_list {
  std::size_t nodes = 0, s = 0, t = 0;
  double constant = 0.0;  // latency paid whatever the cut (device times of contracted inputs)
  std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> arcs;
};

// The corrected DSL graph over every layer, 1e30 for infinity (the naive construction).
arc_list naive_arcs(const ip::layer_graph& g, double bw) {
  constexpr double big = 1e30;
  arc_list a;
  std::size_t aux = 0;
  for (ip::layer_id v = 0; v < g.size(); ++v) aux += g.successors(v).size() > 1 ? 1U : 0U;
  a.nodes = g.size() + aux + 2;
  a.s = g.size() + aux;
  a.t = a.s + 1;
  auto S = static_cast<std::uint32_t>(a.s), T = static_cast<std::uint32_t>(a.t);
  auto next = static_cast<std::uint32_t>(g.size());
  for (ip::layer_id v = 0; v < g.size(); ++v) {
    a.arcs.emplace_back(S, v, g.is_input(v) ? big : g[v].server_time);
    a.arcs.emplace_back(v, T, g[v].device_time);
    const auto& succ = g.successors(v);
    const double tt = g[v].out_bytes / bw;
    if (succ.size() == 1) {
      a.arcs.emplace_back(v, succ[0], tt);
      a.arcs.emplace_back(succ[0], v, big);
    } else if (succ.size() > 1) {
      const auto x = next++;
      a.arcs.emplace_back(v, x, tt);
      for (const auto w : succ) {
        a.arcs.emplace_back(x, w, big);
        a.arcs.emplace_back(w, v, big);
      }
    }
  }
  return a;
}

// The reduced graph dsl() solves, built independently: inputs contracted into the source, free
// layers (no compute on either side, one producer, and only free consumers, or none and an empty
// output) dropped because they take their producer's side at no cost, big-M = 1 + the sum of the
// finite capacities. Only arcs that can be cut are kept (arcs into the source are never cut).
arc_list reduced_arcs(const ip::layer_graph& g, double bw) {
  const std::size_t n = g.size();
  std::vector<char> free_layer(n, 0);
  const auto& order = g.topological_order();
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const ip::layer_id v = *it;
    const auto& succ = g.successors(v);
    bool consumers_free = true;
    for (const auto w : succ) consumers_free = consumers_free && free_layer[w] != 0;
    free_layer[v] = g[v].device_time == 0.0 && g[v].server_time == 0.0 && g.predecessors(v).size() == 1 &&
                    (succ.empty() ? g[v].out_bytes == 0.0 : consumers_free);
  }
  arc_list a;
  constexpr std::uint32_t none = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> vertex(n, none);  // flow vertex of a kept, non-input layer
  std::uint32_t count = 0;
  for (ip::layer_id v = 0; v < n; ++v)
    if (!g.is_input(v) && free_layer[v] == 0) vertex[v] = count++;
  std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> finite, infinite;
  const std::uint32_t S = none - 1, T = none - 2;  // renumbered below
  for (ip::layer_id v = 0; v < n; ++v) {
    if (free_layer[v] != 0) continue;
    std::vector<std::uint32_t> consumers;
    for (const auto w : g.successors(v))
      if (free_layer[w] == 0) consumers.push_back(vertex[w]);
    const double tt = g[v].out_bytes / bw;
    const std::uint32_t from = g.is_input(v) ? S : vertex[v];
    if (g.is_input(v)) {
      a.constant += g[v].device_time;
    } else {
      if (g[v].server_time > 0.0) finite.emplace_back(S, from, g[v].server_time);
      if (g[v].device_time > 0.0) finite.emplace_back(from, T, g[v].device_time);
      for (const auto w : g.predecessors(v))  // precedence: no server layer feeds a device one
        if (free_layer[w] == 0 && !g.is_input(w)) infinite.emplace_back(from, vertex[w], 0.0);
    }
    if (consumers.size() == 1) {
      if (tt > 0.0) finite.emplace_back(from, consumers[0], tt);
    } else if (consumers.size() > 1 && tt > 0.0) {
      const std::uint32_t x = count++;
      finite.emplace_back(from, x, tt);
      for (const auto w : consumers) infinite.emplace_back(x, w, 0.0);
    }
  }
  a.s = count;
  a.t = count + 1;
  a.nodes = count + 2;
  double big = 1.0;
  for (const auto& arc : finite) big += std::get<2>(arc);
  auto end = [&](std::uint32_t u) {
    return u == S ? static_cast<std::uint32_t>(a.s) : u == T ? static_cast<std::uint32_t>(a.t) : u;
  };
  for (const auto& [u, w, c] : finite) a.arcs.emplace_back(end(u), end(w), c);
  for (const auto& [u, w, c] : infinite) a.arcs.emplace_back(end(u), end(w), big);
  return a;
}

void bm_incision(benchmark::State& st, const ip::layer_graph& g, double bandwidth) {
  double v = 0;
  for (auto _ : st) {
    const auto p = ip::dsl(g, bandwidth);
    v = p.latency;
    benchmark::DoNotOptimize(std::as_const(v));
  }
  st.counters["latency_s"] = v;
  st.counters["layers"] = static_cast<double>(g.size());
}

// dsl() on a solver the caller keeps (dsl_solver::run): the same build and solve, its buffers reused.
void bm_incision_kept(benchmark::State& st, const ip::layer_graph& g, double bandwidth) {
  ip::dsl_solver s;
  const ip::simple_link link(bandwidth);
  double v = 0;
  for (auto _ : st) {
    v = s.run(g, g, link).latency;
    benchmark::DoNotOptimize(std::as_const(v));
  }
  st.counters["latency_s"] = v;
}

void bm_incision_resolve(benchmark::State& st, const ip::layer_graph& g, double bandwidth) {
  ip::dsl_solver s;
  s.assign(g, g);
  std::vector<ip::side> pl;
  const ip::detail::link_values l{bandwidth, 0.0, std::numeric_limits<double>::infinity()};
  for (auto _ : st) benchmark::DoNotOptimize(s.solve_cut(l, {}, pl));
  st.counters["cut_s"] = s.value();
}

#if defined(INCISION_BENCH_HAVE_LEMON)
double lemon_value(const arc_list& a) {
  lemon::SmartDigraph d;
  d.reserveNode(static_cast<int>(a.nodes));
  d.reserveArc(static_cast<int>(a.arcs.size()));
  for (std::size_t i = 0; i < a.nodes; ++i) d.addNode();
  lemon::SmartDigraph::ArcMap<double> cap(d);
  for (const auto& [u, w, c] : a.arcs)
    cap[d.addArc(d.nodeFromId(static_cast<int>(u)), d.nodeFromId(static_cast<int>(w)))] = c;
  lemon::Preflow<lemon::SmartDigraph, lemon::SmartDigraph::ArcMap<double>> pf(
      d, cap, d.nodeFromId(static_cast<int>(a.s)), d.nodeFromId(static_cast<int>(a.t)));
  pf.runMinCut();
  return pf.flowValue();
}

void bm_lemon(benchmark::State& st, const arc_list& a) {
  double v = 0;
  for (auto _ : st) {
    v = lemon_value(a);
    benchmark::DoNotOptimize(std::as_const(v));
  }
  st.counters["latency_s"] = a.constant + v;
}
#endif

#if defined(INCISION_BENCH_HAVE_BOOST)
double boost_bk_value(const arc_list& a) {
  using traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using graph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS,
      boost::property<
          boost::vertex_index_t, long,
          boost::property<boost::vertex_color_t, boost::default_color_type,
                          boost::property<boost::vertex_distance_t, long,
                                          boost::property<boost::vertex_predecessor_t, traits::edge_descriptor>>>>,
      boost::property<boost::edge_capacity_t, double,
                      boost::property<boost::edge_residual_capacity_t, double,
                                      boost::property<boost::edge_reverse_t, traits::edge_descriptor>>>>;
  graph d(a.nodes);
  auto cap = boost::get(boost::edge_capacity, d);
  auto rev = boost::get(boost::edge_reverse, d);
  for (const auto& [u, w, c] : a.arcs) {
    const auto e = boost::add_edge(u, w, d).first;
    const auto r = boost::add_edge(w, u, d).first;
    cap[e] = c;
    cap[r] = 0.0;
    rev[e] = r;
    rev[r] = e;
  }
  return boost::boykov_kolmogorov_max_flow(d, boost::vertex(a.s, d), boost::vertex(a.t, d));
}

void bm_boost_bk(benchmark::State& st, const arc_list& a) {
  double v = 0;
  for (auto _ : st) {
    v = boost_bk_value(a);
    benchmark::DoNotOptimize(std::as_const(v));
  }
  st.counters["latency_s"] = a.constant + v;
}
#endif

void bm_bandwidth_map_build(benchmark::State& st, const ip::layer_graph& g) {
  std::size_t k = 0;
  for (auto _ : st) {
    const ip::bandwidth_map m(g, 1e5, 1e10);
    k = m.size();
    benchmark::DoNotOptimize(std::as_const(k));
  }
  st.counters["plans"] = static_cast<double>(k);
}

void bm_bandwidth_map_lookup(benchmark::State& st, const ip::layer_graph& g) {
  const ip::bandwidth_map m(g, 1e5, 1e10);
  std::vector<double> bws(1024);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(std::log(1e5), std::log(1e10));
  for (auto& b : bws) b = std::exp(u(rng));
  std::size_t i = 0;
  for (auto _ : st) {
    benchmark::DoNotOptimize(m.index(bws[i++ & 1023]));
  }
  st.counters["plans"] = static_cast<double>(m.size());
}

void bm_dsh(benchmark::State& st, const ip::layer_graph& g, double bandwidth) {
  double v = 0;
  for (auto _ : st) {
    v = ip::dsh(g, bandwidth).max_stage;
    benchmark::DoNotOptimize(std::as_const(v));
  }
  st.counters["max_stage_s"] = v;
}

const std::vector<std::string>& files() {
  static const std::vector<std::string> f{"op_resnet50_inference.json",       "op_bert_l-12_inference.json",
                                          "layer_inceptionv3_inference.json", "layer_resnet50_inference.json",
                                          "layer_gnmt_inference.json",        "layer_bert24_inference.json"};
  return f;
}

void bm_synthetic(benchmark::State& st) {
  const auto g = synthetic(static_cast<std::size_t>(st.range(0)));
  for (auto _ : st) benchmark::DoNotOptimize(ip::dsl(g, slow_rate).latency);
  st.SetComplexityN(st.range(0));
}
#if defined(INCISION_BENCH_HAVE_LEMON)
void bm_synthetic_lemon(benchmark::State& st) {
  bm_lemon(st, reduced_arcs(synthetic(static_cast<std::size_t>(st.range(0))), slow_rate));
  st.SetComplexityN(st.range(0));
}
#endif
#if defined(INCISION_BENCH_HAVE_BOOST)
void bm_synthetic_boost_bk(benchmark::State& st) {
  bm_boost_bk(st, reduced_arcs(synthetic(static_cast<std::size_t>(st.range(0))), slow_rate));
  st.SetComplexityN(st.range(0));
}
#endif

// Every construction each peer is timed on must give dsl()'s latency; prints the values side by
// side and stops the run when one differs (a ratio over different problems means nothing).
void check_equal(const std::string& name, const ip::layer_graph& g, double rate, const arc_list& reduced,
                 const arc_list& naive) {
  const double ours = ip::dsl(g, rate).latency;
  std::vector<std::pair<std::string, double>> peers;
#if defined(INCISION_BENCH_HAVE_LEMON)
  peers.emplace_back("lemon reduced", reduced.constant + lemon_value(reduced));
  peers.emplace_back("lemon naive", naive.constant + lemon_value(naive));
#endif
#if defined(INCISION_BENCH_HAVE_BOOST)
  peers.emplace_back("boost_bk reduced", reduced.constant + boost_bk_value(reduced));
  peers.emplace_back("boost_bk naive", naive.constant + boost_bk_value(naive));
#endif
  std::fprintf(stderr, "values %s: incision %.9g", name.c_str(), ours);
  for (const auto& [who, v] : peers) {
    std::fprintf(stderr, ", %s %.9g", who.c_str(), v);
    if (std::abs(v - ours) > 1e-9 * std::max(1.0, std::abs(ours))) {
      std::fprintf(stderr, "\nbench_partition: %s differs from dsl() on %s\n", who.c_str(), name.c_str());
      std::exit(1);
    }
  }
  std::fprintf(stderr, " (equal; reduced graph %zu vertices %zu arcs, naive %zu vertices %zu arcs)\n", reduced.nodes,
               reduced.arcs.size(), naive.nodes, naive.arcs.size());
}

const int registered = [] {
  static std::vector<ip::layer_graph> graphs;
  graphs.reserve(files().size());
  for (const auto& f : files()) {
    graphs.push_back(msr(f));
    const ip::layer_graph& g = graphs.back();
    const std::string name = f.substr(0, f.size() - 5);
    for (const auto& [tag, bw] : {std::pair<std::string, double>{"native", native_rate}, {"100mbit", slow_rate}}) {
      const std::string suffix = name + "/" + tag;
      const double rate = bw;
      static std::deque<arc_list> lists;  // stable addresses for the registered lambdas
      const arc_list& reduced = lists.emplace_back(reduced_arcs(g, rate));
      const arc_list& naive = lists.emplace_back(naive_arcs(g, rate));
      check_equal(suffix, g, rate, reduced, naive);
      benchmark::RegisterBenchmark(("dsl/incision/" + suffix).c_str(), [&g, rate](benchmark::State& s) {
        bm_incision(s, g, rate);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("dsl/incision_kept/" + suffix).c_str(), [&g, rate](benchmark::State& s) {
        bm_incision_kept(s, g, rate);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("dsl/incision_resolve/" + suffix).c_str(), [&g, rate](benchmark::State& s) {
        bm_incision_resolve(s, g, rate);
      })->Unit(benchmark::kMicrosecond);
#if defined(INCISION_BENCH_HAVE_LEMON)
      benchmark::RegisterBenchmark(("dsl/lemon_preflow/" + suffix).c_str(), [&reduced](benchmark::State& s) {
        bm_lemon(s, reduced);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("dsl/lemon_preflow_naive/" + suffix).c_str(), [&naive](benchmark::State& s) {
        bm_lemon(s, naive);
      })->Unit(benchmark::kMicrosecond);
#endif
#if defined(INCISION_BENCH_HAVE_BOOST)
      benchmark::RegisterBenchmark(("dsl/boost_bk/" + suffix).c_str(), [&reduced](benchmark::State& s) {
        bm_boost_bk(s, reduced);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("dsl/boost_bk_naive/" + suffix).c_str(), [&naive](benchmark::State& s) {
        bm_boost_bk(s, naive);
      })->Unit(benchmark::kMicrosecond);
#endif
    }
    if (name == "op_resnet50_inference") {
      benchmark::RegisterBenchmark(("bandwidth_map/build/" + name).c_str(), [&g](benchmark::State& s) {
        bm_bandwidth_map_build(s, g);
      })->Unit(benchmark::kMicrosecond);
      benchmark::RegisterBenchmark(("bandwidth_map/lookup/" + name).c_str(),
                                   [&g](benchmark::State& s) { bm_bandwidth_map_lookup(s, g); });
      benchmark::RegisterBenchmark(("dsh/" + name + "/native").c_str(), [&g](benchmark::State& s) {
        bm_dsh(s, g, native_rate);
      })->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("dsh/" + name + "/100mbit").c_str(), [&g](benchmark::State& s) {
        bm_dsh(s, g, slow_rate);
      })->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::RegisterBenchmark("dsl/incision/synthetic", bm_synthetic)
      ->RangeMultiplier(10)
      ->Range(100, 100000)
      ->Complexity()
      ->Unit(benchmark::kMicrosecond);
#if defined(INCISION_BENCH_HAVE_LEMON)
  benchmark::RegisterBenchmark("dsl/lemon_preflow/synthetic", bm_synthetic_lemon)
      ->RangeMultiplier(10)
      ->Range(100, 100000)
      ->Complexity()
      ->Unit(benchmark::kMicrosecond);
#endif
#if defined(INCISION_BENCH_HAVE_BOOST)
  benchmark::RegisterBenchmark("dsl/boost_bk/synthetic", bm_synthetic_boost_bk)
      ->RangeMultiplier(10)
      ->Range(100, 100000)
      ->Complexity()
      ->Unit(benchmark::kMicrosecond);
#endif
  return 0;
}();

}  // namespace
