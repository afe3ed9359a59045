// Layer graph validation, the JSON loaders and the exporter.
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
    CHECK_THROWS_WITH_AS(g.add_edge(last, first), doctest::Contains(doctest::String(("'L" + std::to_string(last) + "'").c_str())),
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

TEST_CASE("every msr-fiddle graph loads, with the documented unit mapping") {
  const std::filesystem::path dir = std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const auto g = ip::load_msr_json(entry.path());
    // independent look at the raw JSON: node/edge counts and one edge's bytes
    const auto doc = ip::detail::parse_json(ip::detail::read_text(entry.path()));
    CHECK(g.size() == doc.find("nodes")->array.size());
    CHECK(g.num_edges() == doc.find("edges")->array.size());
    const auto& e0 = doc.find("edges")->array[0];
    const double size_field = e0.find("size")->number;  // bytes as the file states them
    ip::layer_id src = 0;
    for (ip::layer_id v = 0; v < g.size(); ++v)
      if (doc.find("nodes")->array[v].find("id")->number == e0.find("sourceId")->number) src = v;
    CHECK(g[src].out_bytes == doctest::Approx(size_field).epsilon(1e-6));
    CHECK(g[src].device_time == doctest::Approx(doc.find("nodes")->array[src].find("cpuLatency")->number * 1e-3));
    // DSL runs and its plan is feasible and consistently priced
    const auto p = ip::dsl(g, 12.5e6);
    CHECK(ip::detail::first_violation(g, p.placement) == g.size());
    CHECK(close(price(g, p.placement, 12.5e6).latency, p.latency));
    // round trip through our own format is exact
    const auto back = ip::from_json(ip::to_json(g));
    REQUIRE(back.size() == g.size());
    CHECK(back.edges() == g.edges());
    for (ip::layer_id v = 0; v < g.size(); ++v) {
      CHECK(back[v].name == g[v].name);
      CHECK(back[v].device_time == g[v].device_time);
      CHECK(back[v].server_time == g[v].server_time);
      CHECK(back[v].out_bytes == g[v].out_bytes);
    }
  }
  CHECK(files == 6);
}

TEST_CASE("own JSON format: round trip of random graphs through a file") {
  std::mt19937_64 rng(9);
  const auto path = std::filesystem::temp_directory_path() / "incision_partition_roundtrip.json";
  for (int trial = 0; trial < 50; ++trial) {
    auto g = random_dag(rng, 1 + rng() % 20, 0.3, false, true);
    ip::save_json(g, path);
    const auto back = ip::load_json(path);
    CHECK(ip::to_json(back) == ip::to_json(g));
  }
  std::filesystem::remove(path);
  CHECK_THROWS_AS((void)ip::load_json(path), incision::io_error);
}

TEST_CASE("layer metadata (type, MACs): validated, exported only when set, round-tripped") {
  ip::layer_graph g;
  const auto in = g.add_layer("input", 0.0, 0.0, 602112.0);
  const auto conv = g.add_layer("conv1", 0.3, 0.003, 3211264.0, "conv", 118013952.0);
  g.add_edge(in, conv);
  CHECK(g[in].type.empty());
  CHECK(g[in].macs == 0.0);
  CHECK(g[conv].type == "conv");
  CHECK(g[conv].macs == 118013952.0);
  // a layer without metadata is written exactly as before the fields existed
  const std::string text = ip::to_json(g);
  CHECK(text.find(R"({"name": "input", "device_time": 0, "server_time": 0, "out_bytes": 602112})") != std::string::npos);
  CHECK(text.find(R"("type": "conv", "macs": 118013952)") != std::string::npos);
  const auto back = ip::from_json(text);
  CHECK(back[conv].type == "conv");
  CHECK(back[conv].macs == 118013952.0);
  CHECK(ip::to_json(back) == text);
  // bad values are rejected and change nothing
  CHECK_THROWS_WITH_AS((void)g.add_layer("bad", 0.0, 0.0, 1.0, "relu", -1.0), doctest::Contains("'bad'"),
                       incision::invalid_argument);
  CHECK_THROWS_AS((void)g.add_layer("nan", 0.0, 0.0, 1.0, "relu", std::nan("")), incision::invalid_argument);
  CHECK(g.size() == 2);
  CHECK_THROWS_WITH_AS(g.set_metadata(conv, "conv", std::numeric_limits<double>::infinity()),
                       doctest::Contains("macs"), incision::invalid_argument);
  CHECK(g[conv].macs == 118013952.0);
  CHECK_THROWS_AS(g.set_metadata(7, "conv", 1.0), incision::out_of_range);
  g.set_metadata(in, "input", 0.0);
  CHECK(g[in].type == "input");
  // the reader checks the optional fields' types
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "type": 4}], "edges": []})"),
      doctest::Contains("'type'"), incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "macs": "many"}], "edges": []})"),
      doctest::Contains("'macs'"), incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "macs": -5}], "edges": []})"),
      doctest::Contains("'a'"), incision::invalid_argument);
}

TEST_CASE("loaders reject malformed input with parse_error naming the problem") {
  const std::string good =
      R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})";
  CHECK(ip::from_json(good).size() == 1);
  // every strict prefix is rejected
  for (std::size_t k = 0; k < good.size(); ++k)
    CHECK_THROWS_AS((void)ip::from_json(good.substr(0, k)), incision::parse_error);
  CHECK_THROWS_WITH_AS((void)ip::from_json(R"({"format": "x", "version": 1, "layers": [], "edges": []})"),
                       doctest::Contains("format"), incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [], "edges": [[0, 1]]})"),
      doctest::Contains("dangling edge"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json(R"({"format": "incision.layer_graph", "version": 2, "layers": [], "edges": []})"),
                  incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "neg", "device_time": -1, "server_time": 2, "out_bytes": 3}], "edges": []})"),
      doctest::Contains("'neg'"), incision::invalid_argument);
  CHECK_THROWS_AS((void)ip::from_json("[1, 2,]"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("{\"a\": 1e999}"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("\"\\ud800\""), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json(std::string(100000, '[')), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("{} x"), incision::parse_error);
  // msr-fiddle: dangling edge, duplicate id, cycle, negative latency
  CHECK_THROWS_WITH_AS((void)ip::from_msr_json(R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}], "edges": [{"sourceId": 0, "destId": 5, "cost": 1}]})"),
                       doctest::Contains("dangling"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_msr_json(R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}, {"id": 0, "cpuLatency": 1, "fpgaLatency": 1}], "edges": []})"),
                  incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_msr_json(R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}, {"id": 1, "cpuLatency": 1, "fpgaLatency": 1}], "edges": [{"sourceId": 0, "destId": 1, "cost": 1}, {"sourceId": 1, "destId": 0, "cost": 1}]})"),
                  incision::invalid_argument);
  CHECK_THROWS_WITH_AS((void)ip::from_msr_json(R"({"nodes": [{"id": 3, "name": "conv", "cpuLatency": -1, "fpgaLatency": 1}], "edges": []})"),
                       doctest::Contains("'conv'"), incision::invalid_argument);
  const auto g = ip::from_msr_json(R"({"nodes": [{"id": 7, "cpuLatency": 2, "fpgaLatency": 1}, {"id": 3, "cpuLatency": 4, "fpgaLatency": 0.5}], "edges": [{"sourceId": 7, "destId": 3, "cost": 0.5}]})");
  CHECK(g[0].name == "node7");
  CHECK(g[0].device_time == doctest::Approx(2e-3));
  CHECK(g[0].out_bytes == doctest::Approx(0.5e-3 * 2147483648.0));
  CHECK(g[1].out_bytes == 0.0);
}

TEST_CASE("names and types must be UTF-8: add_layer, set_metadata and the loaders reject other bytes") {
  const std::string bad = std::string("conv") + '\xFF' + '\xFE';
  ip::layer_graph g;
  g.add_layer("in", 0, 0, 1);
  CHECK_THROWS_WITH_AS(g.add_layer(bad, 1, 1, 1), doctest::Contains("layer 1: name is not valid UTF-8"),
                       incision::invalid_argument);
  CHECK_THROWS_WITH_AS(g.add_layer("ok", 1, 1, 1, bad), doctest::Contains("type is not valid UTF-8"),
                       incision::invalid_argument);
  CHECK_THROWS_AS(g.set_metadata(0, bad, 0.0), incision::invalid_argument);
  CHECK(g.size() == 1);
  CHECK(g[0].type.empty());
  // well-formed multi-byte names pass; overlong forms, surrogates, truncation and > U+10FFFF do not
  CHECK(g.add_layer("conv \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 1, 1, 1) == 1);
  for (const char* s : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80", "\x80", "\xF8\x88\x80\x80\x80"})
    CHECK_THROWS_AS(g.add_layer(s, 1, 1, 1), incision::invalid_argument);
  CHECK(g.size() == 2);
  // the loaders: raw bytes in a JSON string are a parse error (the issue 12 #16 msr file)
  const std::string msr = std::string(R"({"nodes": [{"id": 0, "name": "conv)") + '\xFF' + '\xFE' +
                          R"(", "cpuLatency": 1, "fpgaLatency": 1}], "edges": []})";
  CHECK_THROWS_WITH_AS((void)ip::from_msr_json(msr), doctest::Contains("not valid UTF-8"), incision::parse_error);
  const std::string own = std::string(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a)") +
                          '\xC3' + R"(", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})";
  CHECK_THROWS_AS((void)ip::from_json(own), incision::parse_error);
  // escapes decode to UTF-8 and round-trip
  const auto ok = ip::from_json(
      R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a\u00e9\ud83d\ude00", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})");
  CHECK(ok[0].name == "a\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(ip::from_json(ip::to_json(ok))[0].name == ok[0].name);
}

TEST_CASE("JSON objects with a duplicate key are rejected") {
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "version": 2, "layers": [], "edges": []})"),
      doctest::Contains("duplicate key \"version\""), incision::parse_error);
  CHECK_THROWS_AS(
      (void)ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "name": "b", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})"),
      incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_msr_json(R"({"nodes": [{"id": 0, "cpuLatency": 1, "cpuLatency": 5, "fpgaLatency": 1}], "edges": []})"),
                  incision::parse_error);
  // the same key in different objects is fine
  CHECK(ip::from_json(R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3}, {"name": "b", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})")
            .size() == 2);
  // many keys: rejected by sorting, not by a quadratic scan
  std::string many = "{";
  for (int i = 0; i < 50000; ++i) many += "\"k" + std::to_string(i) + "\": 0, ";
  many += "\"k17\": 1}";
  CHECK_THROWS_WITH_AS((void)ip::from_json(many), doctest::Contains("duplicate key \"k17\""), incision::parse_error);
}
