// Loads a layer graph (msr-fiddle JSON) and calls one partitioner entry point N times: the
// driver behind bench/instruction_counts.sh, which differences simulated runs (N and 0 calls) to
// get per-call instruction, L1-miss and branch-miss counts that the machine's noise cannot touch.
//   dsl_repeat <graph.json> <N> [bandwidth bytes/s = 2^31] [oneshot|kept|resolve]
// oneshot: dsl(); kept: dsl_solver::run on one solver (buffers reused); resolve: solve_cut on a
// built graph.
#include <incision/partition.hpp>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

namespace ip = incision::partition;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <graph.json> <N> [bandwidth] [oneshot|kept|resolve]\n", argv[0]);
    return 2;
  }
  const ip::layer_graph g = ip::load_msr_json(argv[1]);
  const long n = std::strtol(argv[2], nullptr, 10);
  const double bandwidth = argc > 3 ? std::strtod(argv[3], nullptr) : 2147483648.0;
  const std::string mode = argc > 4 ? argv[4] : "oneshot";
  double sum = 0.0;
  if (mode == "kept") {
    ip::dsl_solver s;
    const ip::simple_link link(bandwidth);
    for (long i = 0; i < n; ++i) sum += s.run(g, g, link).latency;
  } else if (mode == "resolve") {
    ip::dsl_solver s;
    s.assign(g, g);
    std::vector<ip::side> placement;
    const ip::detail::link_values l{bandwidth, 0.0, std::numeric_limits<double>::infinity()};
    for (long i = 0; i < n; ++i) sum += s.solve_cut(l, {}, placement);
  } else {
    for (long i = 0; i < n; ++i) sum += ip::dsl(g, bandwidth).latency;
  }
  std::printf("%.9g\n", sum);
  return 0;
}
