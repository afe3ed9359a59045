// The max-flow engine against an independent dense Edmonds-Karp on random graphs.
#include <incision/error.hpp>
#include <incision/partition/max_flow.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

namespace ip = incision::partition;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
// Reference: Edmonds-Karp on an adjacency matrix with explicit s = n, t = n + 1; infinite
// capacities replaced by a value larger than the sum of all finite ones (only in the reference).
double reference(std::size_t n, const std::vector<std::tuple<int, int, double, double>>& arcs,
                 const std::vector<std::pair<double, double>>& term) {
  const std::size_t N = n + 2, s = n, t = n + 1;
  double finite = 1.0;
  for (const auto& [u, v, c, r] : arcs) finite += (std::isinf(c) ? 0 : c) + (std::isinf(r) ? 0 : r);
  for (const auto& [a, b] : term) finite += (std::isinf(a) ? 0 : a) + (std::isinf(b) ? 0 : b);
  const double big = finite * 4;
  std::vector<double> cap(N * N, 0.0);
  auto fix = [&](double c) { return std::isinf(c) ? big : c; };
  for (const auto& [u, v, c, r] : arcs) {
    cap[u * N + v] += fix(c);
    cap[v * N + u] += fix(r);
  }
  for (std::size_t v = 0; v < n; ++v) {
    cap[s * N + v] += fix(term[v].first);
    cap[v * N + t] += fix(term[v].second);
  }
  double flow = 0;
  for (;;) {
    std::vector<int> prev(N, -1);
    prev[s] = static_cast<int>(s);
    std::deque<std::size_t> q{s};
    while (!q.empty() && prev[t] < 0) {
      const auto u = q.front();
      q.pop_front();
      for (std::size_t v = 0; v < N; ++v)
        if (prev[v] < 0 && cap[u * N + v] > 1e-12) {
          prev[v] = static_cast<int>(u);
          q.push_back(v);
        }
    }
    if (prev[t] < 0) break;
    double aug = big * 10;
    for (std::size_t v = t; v != s; v = static_cast<std::size_t>(prev[v]))
      aug = std::min(aug, cap[static_cast<std::size_t>(prev[v]) * N + v]);
    for (std::size_t v = t; v != s; v = static_cast<std::size_t>(prev[v])) {
      cap[static_cast<std::size_t>(prev[v]) * N + v] -= aug;
      cap[v * N + static_cast<std::size_t>(prev[v])] += aug;
    }
    flow += aug;
  }
  return flow >= big ? inf : flow;
}

using arc_list = std::vector<std::tuple<int, int, double, double>>;
using terminals = std::vector<std::pair<double, double>>;

double solve_listed(ip::max_flow& mf, std::size_t n, const arc_list& arcs, const terminals& term) {
  mf.reset(n);
  for (const auto& [a, b, c, r] : arcs)
    mf.add_arc(static_cast<ip::max_flow::vertex>(a), static_cast<ip::max_flow::vertex>(b), c, r);
  for (std::size_t v = 0; v < n; ++v)
    mf.set_terminal(static_cast<ip::max_flow::vertex>(v), term[v].first, term[v].second);
  return mf.solve();
}

// Capacity of the cut the engine reports (its source side), from the input capacities.
double reported_cut(const ip::max_flow& mf, std::size_t n, const arc_list& arcs, const terminals& term) {
  double cut = 0;
  for (std::size_t v = 0; v < n; ++v)
    cut += mf.on_source_side(static_cast<ip::max_flow::vertex>(v)) ? term[v].second : term[v].first;
  for (const auto& [a, b, c, r] : arcs) {
    const bool sa = mf.on_source_side(static_cast<ip::max_flow::vertex>(a));
    const bool sb = mf.on_source_side(static_cast<ip::max_flow::vertex>(b));
    if (sa && !sb) cut += c;
    if (sb && !sa) cut += r;
  }
  return cut;
}
}  // namespace

TEST_CASE("max_flow equals a dense Edmonds-Karp on random graphs with infinite arcs") {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  ip::max_flow mf;
  for (int trial = 0; trial < 3000; ++trial) {
    const std::size_t n = 1 + rng() % 12;
    arc_list arcs;
    terminals term(n);
    auto cap = [&] {
      const double x = u(rng);
      return x < 0.1 ? inf : (x < 0.25 ? 0.0 : u(rng) * 5);
    };
    for (auto& [a, b] : term) {
      a = u(rng) < 0.5 ? 0.0 : cap();
      b = u(rng) < 0.5 ? 0.0 : cap();
      if (std::isinf(a) && std::isinf(b)) b = 1.0;
    }
    if (n > 1)
      for (std::size_t k = 0, m = rng() % (3 * n); k < m; ++k) {
        const int a = static_cast<int>(rng() % n), b = static_cast<int>(rng() % n);
        if (a != b) arcs.emplace_back(a, b, cap(), u(rng) < 0.5 ? 0.0 : cap());
      }
    const double got = solve_listed(mf, n, arcs, term);
    const double want = reference(n, arcs, term);
    INFO("trial " << trial);
    if (std::isinf(want)) {
      REQUIRE(std::isinf(got));
      continue;
    }
    REQUIRE(got == doctest::Approx(want).epsilon(1e-9));
    // the reported cut has exactly the flow value
    REQUIRE(reported_cut(mf, n, arcs, term) == doctest::Approx(want).epsilon(1e-9));
    // re-solve on the same topology gives the same answer (buffers reused)
    REQUIRE(mf.solve() == doctest::Approx(got).epsilon(1e-12));
  }
}

TEST_CASE("max_flow equals Edmonds-Karp on larger DAG-shaped graphs (sweeps, forest pushes, blocking flows)") {
  // DSL-like shape: arcs mostly forward in vertex order with infinite reverse capacity, skips,
  // heavy terminals on both sides, so every phase of the engine gets work (not only the sweeps).
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  ip::max_flow mf;
  int blocking = 0, forest = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::size_t n = 20 + rng() % 60;
    arc_list arcs;
    terminals term(n);
    for (auto& [a, b] : term) {
      a = u(rng) < 0.3 ? 0.0 : u(rng) * (u(rng) < 0.2 ? 50.0 : 2.0);
      b = u(rng) < 0.3 ? 0.0 : u(rng) * 2.0;
    }
    for (std::size_t v = 1; v < n; ++v) {
      const int from = static_cast<int>(u(rng) < 0.8 ? v - 1 : rng() % v);
      arcs.emplace_back(from, static_cast<int>(v), u(rng) * 3.0, u(rng) < 0.8 ? inf : 0.0);
      if (u(rng) < 0.3) arcs.emplace_back(static_cast<int>(rng() % v), static_cast<int>(v), u(rng), inf);
    }
    const double got = solve_listed(mf, n, arcs, term);
    const double want = reference(n, arcs, term);
    INFO("trial " << trial);
    REQUIRE(got == doctest::Approx(want).epsilon(1e-9));
    REQUIRE(reported_cut(mf, n, arcs, term) == doctest::Approx(want).epsilon(1e-9));
    blocking += mf.stats().augmenting_paths > 0 ? 1 : 0;
    forest += mf.stats().forest_rounds > 0 ? 1 : 0;
  }
  // the instances are hard enough that forest pushes and blocking flows both get work
  MESSAGE("forest pushes on " << forest << ", augmenting paths on " << blocking << " of 300");
  CHECK(forest > 0);
  CHECK(blocking > 0);
}

namespace {
// A random graph of 2-31 vertices for comparing the constructions: pairs with finite or
// infinite capacities, terminals, and the arc list already built.
struct construction_case {
  std::size_t n = 0;
  std::vector<std::tuple<ip::max_flow::vertex, ip::max_flow::vertex, double, double>> arcs;
  std::vector<std::uint32_t> degree;  // arc ends per vertex
  std::vector<std::pair<double, double>> terminals;
};

construction_case random_construction_case(std::mt19937_64& rng, ip::max_flow& listed) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  construction_case c;
  c.n = 2 + rng() % 30;
  c.degree.assign(c.n, 0);
  for (std::size_t k = 0, m = rng() % (3 * c.n); k < m; ++k) {
    const auto a = static_cast<ip::max_flow::vertex>(rng() % c.n), b = static_cast<ip::max_flow::vertex>(rng() % c.n);
    if (a == b) continue;
    c.arcs.emplace_back(a, b, u(rng) < 0.1 ? inf : u(rng), u(rng) < 0.5 ? 0.0 : inf);
    ++c.degree[a];
    ++c.degree[b];
  }
  for (std::size_t v = 0; v < c.n; ++v)
    c.terminals.emplace_back(u(rng) < 0.5 ? 0.0 : u(rng), u(rng) < 0.5 ? 0.0 : u(rng));
  listed.reset(c.n);
  for (const auto& [a, b, cap, rev] : c.arcs) listed.add_arc(a, b, cap, rev);
  for (ip::max_flow::vertex v = 0; v < c.n; ++v) listed.set_terminal(v, c.terminals[v].first, c.terminals[v].second);
  return c;
}
}  // namespace

TEST_CASE("max_flow built directly in CSR form equals the arc-list form") {
  std::mt19937_64 rng(11);
  ip::max_flow listed, direct;
  for (int trial = 0; trial < 500; ++trial) {
    const construction_case c = random_construction_case(rng, listed);
    direct.begin_counting(c.n);
    for (const auto& [a, b, cap, rev] : c.arcs) direct.count_arc(a, b);
    direct.place_arcs();
    std::vector<ip::max_flow::arc_id> slots;
    for (const auto& [a, b, cap, rev] : c.arcs) slots.push_back(direct.place_arc(a, b, 0.0, 0.0));
    for (std::size_t i = 0; i < c.arcs.size(); ++i)
      direct.set_slot(slots[i], std::get<2>(c.arcs[i]), std::get<3>(c.arcs[i]));
    for (ip::max_flow::vertex v = 0; v < c.n; ++v) direct.set_terminal(v, c.terminals[v].first, c.terminals[v].second);
    INFO("trial " << trial);
    REQUIRE(direct.solve() == listed.solve());
    for (ip::max_flow::vertex v = 0; v < c.n; ++v) REQUIRE(direct.on_source_side(v) == listed.on_source_side(v));
  }
}

TEST_CASE("max_flow built in one pass with room per vertex equals the arc-list form") {
  std::mt19937_64 rng(12);
  ip::max_flow listed, roomed;
  for (int trial = 0; trial < 500; ++trial) {
    const construction_case c = random_construction_case(rng, listed);
    // rooms with unused slack (gaps the loops must skip), a generous bound on the layout, and
    // either sweep order
    const std::size_t max_vertices = c.n + rng() % 5;
    roomed.begin_rooms(max_vertices, 2 * c.arcs.size() + 3 * max_vertices, rng() % 2 == 0);
    for (ip::max_flow::vertex v = 0; v < c.n; ++v)
      roomed.open_vertex(v, c.degree[v] + static_cast<std::uint32_t>(rng() % 4));
    for (const auto& [a, b, cap, rev] : c.arcs) (void)roomed.place_arc(a, b, cap, rev);
    roomed.end_rooms(c.n);
    for (ip::max_flow::vertex v = 0; v < c.n; ++v) roomed.set_terminal(v, c.terminals[v].first, c.terminals[v].second);
    INFO("trial " << trial);
    const double want = listed.solve();
    REQUIRE(roomed.solve() == doctest::Approx(want).epsilon(1e-12));
    for (ip::max_flow::vertex v = 0; v < c.n; ++v) REQUIRE(roomed.on_source_side(v) == listed.on_source_side(v));
    ip::max_flow copy = roomed;  // a copy carves its block like the original
    REQUIRE(copy.solve() == roomed.solve());
    for (ip::max_flow::vertex v = 0; v < c.n; ++v) REQUIRE(copy.on_source_side(v) == roomed.on_source_side(v));
  }
}

TEST_CASE("max_flow reports an infinite cut") {
  ip::max_flow mf;
  mf.reset(2);
  mf.add_arc(0, 1, inf);
  mf.set_terminal(0, inf, 0);
  mf.set_terminal(1, 0, inf);
  CHECK(std::isinf(mf.solve()));
  mf.set_terminal(1, 0, 3.0);
  CHECK(mf.solve() == 3.0);
  CHECK(mf.on_source_side(0));
  CHECK(mf.on_source_side(1));  // its sink arc is the cut: {0, 1} | {} costs 3, {0} | {1} is infinite
}

TEST_CASE("max_flow copies and moves keep their own storage") {
  ip::max_flow a;
  a.begin_counting(3, 2);
  a.count_arc(0, 1);
  a.count_arc(1, 2);
  a.place_arcs();
  const auto s01 = a.place_arc(0, 1, 2.0, inf);
  (void)a.place_arc(1, 2, 1.0, inf);
  a.set_terminal(0, 5.0, 0.0);
  a.set_terminal(2, 0.0, 5.0);
  CHECK(a.solve() == 1.0);
  ip::max_flow b = a;  // copy: independent arrays
  b.set_slot(s01, 0.5, inf);
  CHECK(b.solve() == 0.5);
  CHECK(a.solve() == 1.0);
  ip::max_flow c = std::move(b);  // move: c takes b's arrays, b is empty and reusable
  CHECK(c.solve() == 0.5);
  CHECK(b.num_vertices() == 0);
  b.reset(2);
  b.add_arc(0, 1, 3.0);
  b.set_terminal(0, 4.0, 0.0);
  b.set_terminal(1, 0.0, 4.0);
  CHECK(b.solve() == 3.0);
  a = c;  // copy assignment
  CHECK(a.solve() == 0.5);
  CHECK(c.solve() == 0.5);
}

TEST_CASE("max_flow rejects bad arcs and overruns with an exception, in every build mode") {
  // the test binary has assertions on, so an assertion would terminate here: these must throw
  ip::max_flow mf;
  mf.reset(3);
  CHECK_THROWS_AS((void)mf.add_arc(0, 3, 1.0), incision::out_of_range);
  CHECK_THROWS_AS((void)mf.add_arc(7, 1, 1.0), incision::out_of_range);
  CHECK_THROWS_AS((void)mf.add_arc(1, 1, 1.0), incision::invalid_argument);
  (void)mf.add_arc(0, 1, 2.0);
  mf.set_terminal(0, 5.0, 0.0);
  mf.set_terminal(1, 0.0, 5.0);
  CHECK(mf.solve() == 2.0);  // the rejected arcs left nothing behind

  // rooms: one arc end more than vertex 0's room would overwrite vertex 1's first slot
  ip::max_flow roomed;
  roomed.begin_rooms(3, 8);
  roomed.open_vertex(0, 1);
  roomed.open_vertex(1, 2);
  const auto first = roomed.place_arc(0, 1, 3.0, 0.0);
  CHECK_THROWS_WITH_AS((void)roomed.place_arc(0, 1, 9.0, 0.0), doctest::Contains("vertex 0 has no slot left"),
                       incision::invalid_argument);
  CHECK_THROWS_AS((void)roomed.place_arc(1, 2, 1.0, 0.0), incision::invalid_argument);  // 2 not opened
  CHECK_THROWS_AS((void)roomed.place_arc(1, 5, 1.0, 0.0), incision::out_of_range);
  CHECK_THROWS_AS(roomed.open_vertex(2, 6), incision::invalid_argument);  // 3 + 6 > 8 slots
  CHECK_THROWS_AS(roomed.open_vertex(3, 1), incision::out_of_range);
  roomed.end_rooms(2);
  roomed.set_terminal(0, 5.0, 0.0);
  roomed.set_terminal(1, 0.0, 5.0);
  CHECK(roomed.solve() == 3.0);  // vertex 1's slot still holds the first arc's reverse half
  roomed.set_slot(first, 4.0);
  CHECK(roomed.solve() == 4.0);

  // counted: more pairs than counted
  ip::max_flow counted;
  counted.begin_counting(2);
  counted.count_arc(0, 1);
  counted.place_arcs();
  (void)counted.place_arc(0, 1, 1.0);
  CHECK_THROWS_AS((void)counted.place_arc(1, 0, 1.0), incision::invalid_argument);
}
