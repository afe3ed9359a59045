// The graph loaders (msr-fiddle, incision's own format) and the exporter, through the JSON
// reader in incision/detail/json.hpp.
#include <incision/partition.hpp>

#include "partition/support.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ip = incision::partition;
using namespace partition_test;

TEST_CASE("every msr-fiddle graph loads, with the documented unit mapping") {
  const std::filesystem::path dir = std::filesystem::path(INCISION_DATA_DIR) / "msr-fiddle";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    const auto g = ip::load_msr_json(entry.path());
    // independent look at the raw JSON: node/edge counts and one edge's bytes
    const auto doc = incision::detail::parse_json(ip::detail::read_text(entry.path()));
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
  CHECK(text.find(R"({"name": "input", "device_time": 0, "server_time": 0, "out_bytes": 602112})") !=
        std::string::npos);
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
  CHECK_THROWS_WITH_AS(g.set_metadata(conv, "conv", std::numeric_limits<double>::infinity()), doctest::Contains("macs"),
                       incision::invalid_argument);
  CHECK(g[conv].macs == 118013952.0);
  CHECK_THROWS_AS(g.set_metadata(7, "conv", 1.0), incision::out_of_range);
  g.set_metadata(in, "input", 0.0);
  CHECK(g[in].type == "input");
  // the reader checks the optional fields' types
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "type": 4}], "edges": []})"),
      doctest::Contains("'type'"), incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "macs": "many"}], "edges": []})"),
      doctest::Contains("'macs'"), incision::parse_error);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3, "macs": -5}], "edges": []})"),
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
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "neg", "device_time": -1, "server_time": 2, "out_bytes": 3}], "edges": []})"),
      doctest::Contains("'neg'"), incision::invalid_argument);
  CHECK_THROWS_AS((void)ip::from_json("[1, 2,]"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("{\"a\": 1e999}"), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("\"\\ud800\""), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json(std::string(100000, '[')), incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_json("{} x"), incision::parse_error);
  // msr-fiddle: dangling edge, duplicate id, cycle, negative latency
  CHECK_THROWS_WITH_AS(
      (void)ip::from_msr_json(
          R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}], "edges": [{"sourceId": 0, "destId": 5, "cost": 1}]})"),
      doctest::Contains("dangling"), incision::parse_error);
  CHECK_THROWS_AS(
      (void)ip::from_msr_json(
          R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}, {"id": 0, "cpuLatency": 1, "fpgaLatency": 1}], "edges": []})"),
      incision::parse_error);
  CHECK_THROWS_AS(
      (void)ip::from_msr_json(
          R"({"nodes": [{"id": 0, "cpuLatency": 1, "fpgaLatency": 1}, {"id": 1, "cpuLatency": 1, "fpgaLatency": 1}], "edges": [{"sourceId": 0, "destId": 1, "cost": 1}, {"sourceId": 1, "destId": 0, "cost": 1}]})"),
      incision::invalid_argument);
  CHECK_THROWS_WITH_AS(
      (void)ip::from_msr_json(
          R"({"nodes": [{"id": 3, "name": "conv", "cpuLatency": -1, "fpgaLatency": 1}], "edges": []})"),
      doctest::Contains("'conv'"), incision::invalid_argument);
  const auto g = ip::from_msr_json(
      R"({"nodes": [{"id": 7, "cpuLatency": 2, "fpgaLatency": 1}, {"id": 3, "cpuLatency": 4, "fpgaLatency": 0.5}], "edges": [{"sourceId": 7, "destId": 3, "cost": 0.5}]})");
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
  for (const char* s :
       {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80", "\x80", "\xF8\x88\x80\x80\x80"})
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
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "version": 2, "layers": [], "edges": []})"),
      doctest::Contains("duplicate key \"version\""), incision::parse_error);
  CHECK_THROWS_AS(
      (void)ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "name": "b", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})"),
      incision::parse_error);
  CHECK_THROWS_AS((void)ip::from_msr_json(
                      R"({"nodes": [{"id": 0, "cpuLatency": 1, "cpuLatency": 5, "fpgaLatency": 1}], "edges": []})"),
                  incision::parse_error);
  // the same key in different objects is fine
  CHECK(
      ip::from_json(
          R"({"format": "incision.layer_graph", "version": 1, "layers": [{"name": "a", "device_time": 1, "server_time": 2, "out_bytes": 3}, {"name": "b", "device_time": 1, "server_time": 2, "out_bytes": 3}], "edges": []})")
          .size() == 2);
  // many keys: rejected by sorting, not by a quadratic scan
  std::string many = "{";
  for (int i = 0; i < 50000; ++i) many += "\"k" + std::to_string(i) + "\": 0, ";
  many += "\"k17\": 1}";
  CHECK_THROWS_WITH_AS((void)ip::from_json(many), doctest::Contains("duplicate key \"k17\""), incision::parse_error);
}
