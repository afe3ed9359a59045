// Repeated solves on the same topology reuse every buffer: no allocation (malloc is counted
// while a test enables it).
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include "support/malloc_counter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using incision_test::allocations;
using incision_test::count_scope;

namespace ip = incision::partition;

TEST_CASE("dsl_solver re-solves (new bandwidths, DSH weights) without allocating" *
          doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  const auto g =
      ip::load_msr_json(std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle" / "op_resnet50_inference.json");
  ip::dsl_solver s;
  s.assign(g, g);
  std::vector<ip::side> placement;
  const double inf = std::numeric_limits<double>::infinity();
  (void)s.solve_cut({1e6, 0.0, inf}, {}, placement);  // first solve compiles the CSR arrays
  double total = 0.0;
  long counted = 0;
  {
    const count_scope scope;
    for (int k = 0; k < 50; ++k) {
      const double bw = 1e5 * std::pow(10.0, k / 10.0);
      total += s.solve_cut({bw, 0.0, inf}, {1.0 + 0.1 * k, 1.0, 1.0 / (1.0 + k)}, placement);
    }
    counted = allocations.load();
  }
  CHECK(counted == 0);
  CHECK(total > 0.0);
  {  // positive control: the counter does see allocations
    const count_scope scope;
    std::vector<double> v(100, 1.0);
    total += v[7];
    counted = allocations.load();
  }
  CHECK(counted >= 1);
}

TEST_CASE("a kept solver's run() allocates only the plan; a fresh dsl() allocates its buffers too" *
          doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  const auto data = std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle";
  const auto big = ip::load_msr_json(data / "op_resnet50_inference.json");
  const auto small = ip::load_msr_json(data / "layer_bert24_inference.json");
  (void)small.flat();  // the graphs' own caches (filled on first use) are not the solver's
  ip::dsl_solver s;
  (void)s.run(big, big, ip::simple_link(2147483648.0));  // the buffers grow to the larger graph
  const auto allocations_of = [](auto&& call) {
    const count_scope scope;
    const ip::plan p = call();
    const long counted = allocations.load();
    CHECK(p.latency > 0.0);
    return counted;
  };
  // a plan holds at most four vectors: placement, device, server and shipped layers
  for (const ip::layer_graph* g : {&small, &big, &small}) {
    CHECK(allocations_of([&] { return s.run(*g, *g, ip::simple_link(12.5e6)); }) <= 4);
    CHECK(allocations_of([&] { return s.run(*g, *g, ip::simple_link(2147483648.0)); }) <= 4);
  }
  CHECK(allocations_of([&] { return ip::dsl(big, 2147483648.0); }) > 4);
}

TEST_CASE("max_flow re-solve with new capacities does not allocate" * doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  ip::max_flow mf;
  mf.reset(50);
  for (ip::max_flow::vertex v = 0; v + 1 < 50; ++v) mf.add_arc(v, v + 1, 1.0, ip::max_flow::infinity);
  for (ip::max_flow::vertex v = 0; v < 50; ++v) mf.set_terminal(v, 0.5 * (v % 3), 0.4 * (v % 4));
  (void)mf.solve();
  long counted = 0;
  {
    const count_scope scope;
    for (int k = 0; k < 20; ++k) {
      mf.set_arc(static_cast<ip::max_flow::arc_id>(k), 0.1 * k, 0.0);
      mf.set_terminal(static_cast<ip::max_flow::vertex>(k), 1.0 * k, 0.5);
      (void)mf.solve();
    }
    counted = allocations.load();
  }
  CHECK(counted == 0);
}

TEST_CASE("building a layer graph allocates amortised O(1) per layer and edge" *
          doctest::skip(INCISION_TEST_COUNT_MALLOC == 0)) {
  // Appending must grow the storage geometrically: reserving size() + 1 before each append (for
  // the strong guarantee) would reallocate on every call and make building n layers O(n^2).
  constexpr int n = 10000;
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("L" + std::to_string(i));  // short: no heap
  ip::layer_graph g;
  long layer_allocs = 0, edge_allocs = 0;
  {
    const count_scope scope;
    for (int i = 0; i < n; ++i) (void)g.add_layer(std::move(names[i]), 1e-3, 1e-4, 100.0);
    layer_allocs = allocations.load();
  }
  {
    const count_scope scope;
    for (ip::layer_id v = 1; v < n; ++v) g.add_edge(v - 1, v);
    edge_allocs = allocations.load();
  }
  CHECK(layer_allocs < 200);         // 3 vectors doubling: about 3 * log2(n) reallocations
  CHECK(edge_allocs < 2 * n + 200);  // one successor and one predecessor list per edge here
  CHECK(g.size() == static_cast<std::size_t>(n));
  CHECK(g.num_edges() == static_cast<std::size_t>(n - 1));
}
