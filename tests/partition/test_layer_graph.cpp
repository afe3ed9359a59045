// Layer graph validation: layers, edges, cycle checks, the flat view and the cost columns.
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace ip = incision::partition;
using namespace partition_test;

TEST_CASE("layer_graph validates layers and edges, naming the layer, and stays unchanged") {
  ip::layer_graph g;
  CHECK(g.add_layer("in", 0, 0, 10) == 0);
  CHECK(g.add_layer("conv1", 1, 0.1, 5) == 1);
  CHECK(g.add_layer("fc", 1, 0.1, 1) == 2);
  CHECK_THROWS_WITH_AS(g.add_layer("bad", -1, 0, 0), doctest::Contains("'bad'"), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(g.add_layer("nan", 0, std::nan(""), 0), doctest::Contains("server_time"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(g.add_layer("inf", 0, 0, std::numeric_limits<double>::infinity()), incision::invalid_argument);
  CHECK(g.size() == 3);
  g.add_edge(0, 1);
  g.add_edge(1, 2);
  CHECK_THROWS_WITH_AS(g.add_edge(1, 1), doctest::Contains("self loop on layer 'conv1'"), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(g.add_edge(0, 1), doctest::Contains("duplicate edge 'in'"), incision::invalid_argument);
  CHECK_THROWS_WITH_AS(g.add_edge(2, 0), doctest::Contains("cycle"), incision::invalid_argument);
  CHECK_THROWS_AS(g.add_edge(0, 7), incision::out_of_range);
  CHECK(g.num_edges() == 2);
  CHECK(g.is_chain());
  CHECK_THROWS_AS(g.set_costs(1, 0, -2, 0), incision::invalid_argument);
  CHECK(g[1].server_time == 0.1);
  CHECK_THROWS_AS((void)g.at(9), incision::out_of_range);
}

TEST_CASE("cycle detection also works when ids are not in topological order") {
  ip::layer_graph g;
  for (int i = 0; i < 4; ++i) g.add_layer("L" + std::to_string(i), 1, 1, 1);
  g.add_edge(3, 2);
  g.add_edge(2, 1);
  g.add_edge(1, 0);
  CHECK_THROWS_AS(g.add_edge(0, 3), incision::invalid_argument);
  g.add_edge(3, 0);
  const auto& order = g.topological_order();
  CHECK(order == std::vector<ip::layer_id>{3, 2, 1, 0});
}

TEST_CASE("cycle checks agree with a plain reachability search on random edge orders") {
  // the two-way search against a one-way DFS written here
  std::mt19937_64 rng(12);
  std::uniform_int_distribution<int> pick(0, 11);
  for (int trial = 0; trial < 400; ++trial) {
    ip::layer_graph g;
    for (int i = 0; i < 12; ++i) g.add_layer("L" + std::to_string(i), 1, 1, 1);
    for (int k = 0; k < 40; ++k) {
      const auto a = static_cast<ip::layer_id>(pick(rng)), b = static_cast<ip::layer_id>(pick(rng));
      if (a == b) continue;
      const auto& s = g.successors(a);
      if (std::find(s.begin(), s.end(), b) != s.end()) continue;
      std::vector<char> seen(g.size(), 0);
      std::vector<ip::layer_id> stack{b};
      bool cycle = false;
      while (!stack.empty()) {
        const auto u = stack.back();
        stack.pop_back();
        if (u == a) cycle = true;
        for (const auto w : g.successors(u))
          if (!seen[w]) {
            seen[w] = 1;
            stack.push_back(w);
          }
      }
      const std::size_t before = g.num_edges();
      INFO("trial " << trial << " edge " << a << " -> " << b);
      if (cycle) {
        CHECK_THROWS_WITH_AS(g.add_edge(a, b), doctest::Contains("would close a cycle"), incision::invalid_argument);
        CHECK(g.num_edges() == before);
      } else {
        g.add_edge(a, b);
      }
    }
    const auto& order = g.topological_order();
    REQUIRE(order.size() == g.size());
  }
}

TEST_CASE("a 200,000-layer chain builds in any edge order, and closing it is still rejected") {
  constexpr ip::layer_id n = 200000;
  // ids count from the output (edge k + 1 -> k), edges added from the output end: a one-way
  // cycle check walks the whole built part per edge (quadratic); likewise the other three orders
  for (int variant = 0; variant < 4; ++variant) {
    ip::layer_graph g;
    for (ip::layer_id k = 0; k < n; ++k) g.add_layer("L" + std::to_string(k), 1, 1, 1);
    const bool reversed_ids = variant < 2, from_output = variant % 2 == 0;
    for (ip::layer_id i = 0; i + 1 < n; ++i) {
      const ip::layer_id k = from_output ? n - 2 - i : i;  // position of the edge's producer
      // position p holds id p, or n - 1 - p with reversed ids
      const auto id = [&](ip::layer_id p) { return reversed_ids ? n - 1 - p : p; };
      g.add_edge(id(k), id(k + 1));
    }
    INFO("variant " << variant);
    REQUIRE(g.num_edges() == n - 1);
    REQUIRE(g.is_chain());
    const ip::layer_id first = reversed_ids ? n - 1 : 0, last = reversed_ids ? 0 : n - 1;
    CHECK_THROWS_WITH_AS(g.add_edge(last, first),
                         doctest::Contains(doctest::String(("'L" + std::to_string(last) + "'").c_str())),
                         incision::invalid_argument);
    CHECK(g.num_edges() == n - 1);
    CHECK(g.topological_order().front() == first);
  }
  // a hub: one producer, many consumers, ids against the edges
  ip::layer_graph star;
  for (ip::layer_id k = 0; k < n; ++k) star.add_layer("S" + std::to_string(k), 1, 1, 1);
  for (ip::layer_id k = 0; k + 1 < n; ++k) star.add_edge(n - 1, k);
  CHECK_THROWS_AS(star.add_edge(n - 1, 5), incision::invalid_argument);  // duplicate
  CHECK(star.num_edges() == n - 1);
}

TEST_CASE("the flat view and the cost columns follow every mutation") {
  std::mt19937_64 rng(77);
  ip::layer_graph g;
  std::uniform_real_distribution<double> u(0.0, 2.0);
  auto check = [&] {
    const auto& f = g.flat();
    REQUIRE(f.first.size() == g.size() + 1);
    for (ip::layer_id v = 0; v < g.size(); ++v) {
      const auto s = f.successors(v);
      REQUIRE(std::vector<ip::layer_id>(s.begin(), s.end()) == g.successors(v));
      const auto p = f.predecessors(v);
      REQUIRE(std::vector<ip::layer_id>(p.begin(), p.end()) == g.predecessors(v));
      REQUIRE(f.in_degree(v) == g.predecessors(v).size());
      REQUIRE(g.device_times()[v] == g[v].device_time);
      REQUIRE(g.server_times()[v] == g[v].server_time);
      REQUIRE(g.out_bytes()[v] == g[v].out_bytes);
    }
  };
  for (int step = 0; step < 300; ++step) {
    const std::size_t n = g.size();
    const int what = static_cast<int>(rng() % 3);
    if (what == 0 || n < 2) {
      g.add_layer("L" + std::to_string(n), u(rng), u(rng), u(rng));
    } else if (what == 1) {
      const auto a = static_cast<ip::layer_id>(rng() % n), b = static_cast<ip::layer_id>(rng() % n);
      try {
        g.add_edge(a, b);  // some close cycles or repeat edges: rejected, graph unchanged
      } catch (const incision::invalid_argument&) {
      }
    } else {
      g.set_costs(static_cast<ip::layer_id>(rng() % n), u(rng), u(rng), u(rng));
    }
    if (step % 7 == 0) check();  // the cache is read between mutations
  }
  check();
  const auto before = g.device_times()[0];
  CHECK_THROWS_AS(g.set_costs(0, -1.0, 0.0, 0.0), incision::invalid_argument);
  CHECK(g.device_times()[0] == before);
}
