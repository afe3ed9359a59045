// One process, two builds of the partitioner: the working tree's headers (namespace incision)
// and an older commit's, renamed to incision_old by bench/ab_inprocess.sh. Batches of calls
// alternate between the two (in alternating order), so the machine's drift hits both alike; the
// median of the per-round ratios is the number to read.
//   ab_inprocess <graph.json> [bandwidth = 2^31] [oneshot|resolve|dsh|map] [rounds = 300]
// oneshot: dsl(); resolve: dsl_solver::solve_cut on a built graph; dsh: dsh(); map: building
// the bandwidth map over 1e5-1e10 B/s.
#include <incision/partition.hpp>
#include <incision_old/partition.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace {

// one build's graph, solver and link, ready to call (a macro: a namespace is no template argument)
#define INCISION_AB_BUILD(name, ns)                                                          \
  struct name {                                                                              \
    ns::layer_graph g;                                                                       \
    ns::dsl_solver solver;                                                                   \
    std::vector<ns::side> placement;                                                         \
    ns::detail::link_values link;                                                            \
    std::string mode;                                                                        \
    name(const char* path, double bandwidth, std::string m)                                  \
        : g(ns::load_msr_json(path)),                                                        \
          link{bandwidth, 0.0, std::numeric_limits<double>::infinity()},                     \
          mode(std::move(m)) {                                                               \
      solver.assign(g, g);                                                                   \
    }                                                                                        \
    double call() {                                                                          \
      if (mode == "resolve") return solver.solve_cut(link, {}, placement);                   \
      if (mode == "dsh") return ns::dsh(g, link.bandwidth).max_stage;                        \
      if (mode == "map") return static_cast<double>(ns::bandwidth_map(g, 1e5, 1e10).size()); \
      return ns::dsl(g, link.bandwidth).latency;                                             \
    }                                                                                        \
  };
INCISION_AB_BUILD(old_build_t, incision_old::partition)
INCISION_AB_BUILD(new_build_t, incision::partition)

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <graph.json> [bandwidth] [oneshot|resolve] [rounds]\n", argv[0]);
    return 2;
  }
  const double bandwidth = argc > 2 ? std::stod(argv[2]) : 2147483648.0;
  const std::string mode = argc > 3 ? argv[3] : "oneshot";
  const int rounds = argc > 4 ? std::stoi(argv[4]) : 300;
  old_build_t old_build(argv[1], bandwidth, mode);
  new_build_t new_build(argv[1], bandwidth, mode);
  const int batch = mode == "dsh" ? 2 : mode == "map" ? 20 : 200;
  double sink = 0.0;
  const auto time = [&](auto& build) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < batch; ++i) sink += build.call();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / batch;
  };
  std::vector<double> t_old, t_new, ratio;
  for (int r = 0; r < rounds; ++r) {
    double a = 0.0, b = 0.0;
    if (r % 2 == 0) {
      a = time(old_build);
      b = time(new_build);
    } else {
      b = time(new_build);
      a = time(old_build);
    }
    t_old.push_back(a);
    t_new.push_back(b);
    ratio.push_back(b / a);
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("old: best %.2f us, median %.2f us | new: best %.2f us, median %.2f us | new/old: median %.3f (%s)\n",
              *std::min_element(t_old.begin(), t_old.end()), median(t_old),
              *std::min_element(t_new.begin(), t_new.end()), median(t_new), median(ratio), sink == sink ? "ok" : "nan");
  return 0;
}
