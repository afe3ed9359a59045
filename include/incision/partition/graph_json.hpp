/// @file
/// @brief Loaders and exporter for layer graphs: the msr-fiddle JSON workload format and
/// incision's own JSON format.
///
/// Own format (version 1), written by to_json and read back exactly by from_json:
/// @code
/// {"format": "incision.layer_graph", "version": 1,
///  "layers": [{"name": "input", "device_time": 0.0, "server_time": 0.0, "out_bytes": 602112}, ...],
///  "edges": [[0, 1], [1, 2], ...]}
/// @endcode
/// Layer ids are positions in "layers"; times in seconds, sizes in bytes; a layer may carry the
/// optional metadata "type" (string) and "macs" (number >= 0), written only when set; unknown
/// keys are rejected; numbers are written in shortest round-trip form.
///
/// msr-fiddle format (msr-fiddle/dnn-partitioning, NeurIPS 2020 workloads): `nodes[]` with
/// `id`, `cpuLatency`, `fpgaLatency`, optional `name`; `edges[]` with `sourceId`, `destId`,
/// `cost`. Mapping used: device_time = cpuLatency x time_scale, server_time = fpgaLatency x
/// time_scale (the values read as milliseconds, time_scale = 1e-3 turns them into seconds);
/// out_bytes of a node = (largest `cost` of its out-edges) x time_scale x link_rate, where
/// link_rate (bytes/second) is the rate the profile's transfer costs imply: 2^31 B/s reproduces the
/// files' own edge `size` fields. Nodes without out-edges get out_bytes 0. Layer ids follow the
/// order of `nodes[]`; the original id is kept in the layer name when `name` is absent.
#pragma once

#include <incision/config.hpp>
#include <incision/detail/atomic_file.hpp>
#include <incision/detail/json.hpp>
#include <incision/error.hpp>
#include <incision/partition/layer_graph.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

INCISION_BEGIN_NAMESPACE
namespace partition {

/// @brief Unit mapping of the msr-fiddle loader (see file comment).
struct msr_options {
  double time_scale = 1e-3;         ///< profile time unit -> seconds (milliseconds)
  double link_rate = 2147483648.0;  ///< bytes/second behind the edge `cost` values (2^31)
};

/// @brief Parses msr-fiddle JSON text. @throws parse_error for malformed JSON or a missing /
/// mistyped field, a dangling edge or duplicate node id; invalid_argument for a negative latency,
/// a duplicate edge or a cycle (messages name the node).
[[nodiscard]] layer_graph from_msr_json(std::string_view text, const msr_options& opt = {});
/// @brief Reads an msr-fiddle JSON file. @throws io_error if unreadable, else as from_msr_json.
[[nodiscard]] layer_graph load_msr_json(const std::filesystem::path& path, const msr_options& opt = {});
/// @brief Parses incision's own format. @throws parse_error / invalid_argument as above.
[[nodiscard]] layer_graph from_json(std::string_view text);
/// @brief Reads incision's own format from a file.
[[nodiscard]] layer_graph load_json(const std::filesystem::path& path);
/// @brief Writes incision's own format.
[[nodiscard]] std::string to_json(const layer_graph& g);
/// @brief Writes incision's own format to a file atomically.
void save_json(const layer_graph& g, const std::filesystem::path& path);

// ---------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------

namespace detail {

using json_value = incision::detail::json_value;

[[noreturn]] inline void json_fail(const std::string& what) {
  INCISION_THROW(parse_error(incision::detail::message("partition", what)));
}

inline const json_value& member(const json_value& obj, std::string_view key, json_value::kind k,
                                const std::string& where) {
  const json_value* v = obj.find(key);
  if (v == nullptr) json_fail(where + ": missing field '" + std::string(key) + "'");
  if (v->type != k) json_fail(where + ": field '" + std::string(key) + "' has the wrong type");
  return *v;
}

inline std::uint32_t as_index(const json_value& v, const std::string& where) {
  if (v.type != json_value::kind::number || v.number < 0.0 || v.number > 4294967295.0 ||
      std::floor(v.number) != v.number)
    json_fail(where + ": expected a non-negative integer id");
  return static_cast<std::uint32_t>(v.number);
}

inline std::string read_text(const std::filesystem::path& path) {
  const auto bytes = incision::detail::read_file_bytes(path);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace detail

inline layer_graph from_msr_json(std::string_view text, const msr_options& opt) {
  using detail::json_value;
  if (!(opt.time_scale > 0.0) || !std::isfinite(opt.time_scale) || !(opt.link_rate > 0.0) ||
      !std::isfinite(opt.link_rate))
    INCISION_THROW(invalid_argument(
        incision::detail::message("partition", "msr_options: time_scale and link_rate must be finite and > 0")));
  const json_value doc = incision::detail::parse_json(text, "partition");
  if (doc.type != json_value::kind::object) detail::json_fail("msr-fiddle: top level must be an object");
  const auto& nodes = detail::member(doc, "nodes", json_value::kind::array, "msr-fiddle");
  const auto& edges = detail::member(doc, "edges", json_value::kind::array, "msr-fiddle");
  std::unordered_map<std::uint32_t, layer_id> index;
  std::vector<double> bytes(nodes.array.size(), 0.0);
  std::vector<std::pair<layer_id, layer_id>> links;
  links.reserve(edges.array.size());
  for (std::size_t i = 0; i < edges.array.size(); ++i) {
    const json_value& e = edges.array[i];
    const std::string where = "msr-fiddle edge " + std::to_string(i);
    if (e.type != json_value::kind::object) detail::json_fail(where + ": not an object");
    (void)detail::member(e, "sourceId", json_value::kind::number, where);
    (void)detail::member(e, "destId", json_value::kind::number, where);
    (void)detail::member(e, "cost", json_value::kind::number, where);
  }
  layer_graph g;
  for (std::size_t i = 0; i < nodes.array.size(); ++i) {
    const json_value& n = nodes.array[i];
    const std::string where = "msr-fiddle node " + std::to_string(i);
    if (n.type != json_value::kind::object) detail::json_fail(where + ": not an object");
    const std::uint32_t id = detail::as_index(detail::member(n, "id", json_value::kind::number, where), where);
    const double cpu = detail::member(n, "cpuLatency", json_value::kind::number, where).number;
    const double acc = detail::member(n, "fpgaLatency", json_value::kind::number, where).number;
    std::string name = "node" + std::to_string(id);
    if (const json_value* nm = n.find("name"); nm != nullptr) {
      if (nm->type != json_value::kind::string) detail::json_fail(where + ": field 'name' has the wrong type");
      name = nm->string;
    }
    if (!index.emplace(id, static_cast<layer_id>(i)).second)
      detail::json_fail(where + ": duplicate node id " + std::to_string(id));
    g.add_layer(std::move(name), cpu * opt.time_scale, acc * opt.time_scale, 0.0);
  }
  for (std::size_t i = 0; i < edges.array.size(); ++i) {
    const json_value& e = edges.array[i];
    const std::string where = "msr-fiddle edge " + std::to_string(i);
    const std::uint32_t s = detail::as_index(*e.find("sourceId"), where);
    const std::uint32_t t = detail::as_index(*e.find("destId"), where);
    const double cost = e.find("cost")->number;
    const auto si = index.find(s), ti = index.find(t);
    if (si == index.end() || ti == index.end())
      detail::json_fail(where + ": dangling edge " + std::to_string(s) + " -> " + std::to_string(t) +
                        " (unknown node id)");
    if (!(cost >= 0.0))
      INCISION_THROW(invalid_argument(incision::detail::message(
          "partition", where + ": negative transfer cost on node '" + g[si->second].name + "'")));
    bytes[si->second] = std::max(bytes[si->second], cost * opt.time_scale * opt.link_rate);
    links.emplace_back(si->second, ti->second);
  }
  for (const auto& [s, t] : links) g.add_edge(s, t);
  for (layer_id v = 0; v < g.size(); ++v) g.set_costs(v, g[v].device_time, g[v].server_time, bytes[v]);
  return g;
}

inline layer_graph load_msr_json(const std::filesystem::path& path, const msr_options& opt) {
  return from_msr_json(detail::read_text(path), opt);
}

inline layer_graph from_json(std::string_view text) {
  using detail::json_value;
  const json_value doc = incision::detail::parse_json(text, "partition");
  if (doc.type != json_value::kind::object) detail::json_fail("layer graph JSON: top level must be an object");
  for (const auto& [k, v] : doc.object)
    if (k != "format" && k != "version" && k != "layers" && k != "edges")
      detail::json_fail("layer graph JSON: unknown field '" + k + "'");
  if (detail::member(doc, "format", json_value::kind::string, "layer graph JSON").string != "incision.layer_graph")
    detail::json_fail("layer graph JSON: format must be \"incision.layer_graph\"");
  if (detail::member(doc, "version", json_value::kind::number, "layer graph JSON").number != 1.0)
    detail::json_fail("layer graph JSON: unsupported version (this reader knows version 1)");
  const auto& layers = detail::member(doc, "layers", json_value::kind::array, "layer graph JSON");
  const auto& edges = detail::member(doc, "edges", json_value::kind::array, "layer graph JSON");
  layer_graph g;
  for (std::size_t i = 0; i < layers.array.size(); ++i) {
    const json_value& l = layers.array[i];
    const std::string where = "layer graph JSON layer " + std::to_string(i);
    if (l.type != json_value::kind::object) detail::json_fail(where + ": not an object");
    for (const auto& [k, v] : l.object)
      if (k != "name" && k != "device_time" && k != "server_time" && k != "out_bytes" && k != "type" && k != "macs")
        detail::json_fail(where + ": unknown field '" + k + "'");
    std::string type;
    if (const json_value* t = l.find("type"); t != nullptr) {
      if (t->type != json_value::kind::string) detail::json_fail(where + ": field 'type' has the wrong type");
      type = t->string;
    }
    double macs = 0.0;
    if (const json_value* m = l.find("macs"); m != nullptr) {
      if (m->type != json_value::kind::number) detail::json_fail(where + ": field 'macs' has the wrong type");
      macs = m->number;
    }
    g.add_layer(detail::member(l, "name", json_value::kind::string, where).string,
                detail::member(l, "device_time", json_value::kind::number, where).number,
                detail::member(l, "server_time", json_value::kind::number, where).number,
                detail::member(l, "out_bytes", json_value::kind::number, where).number, std::move(type), macs);
  }
  for (std::size_t i = 0; i < edges.array.size(); ++i) {
    const json_value& e = edges.array[i];
    const std::string where = "layer graph JSON edge " + std::to_string(i);
    if (e.type != json_value::kind::array || e.array.size() != 2) detail::json_fail(where + ": expected [from, to]");
    const std::uint32_t s = detail::as_index(e.array[0], where);
    const std::uint32_t t = detail::as_index(e.array[1], where);
    if (s >= g.size() || t >= g.size())
      detail::json_fail(where + ": dangling edge " + std::to_string(s) + " -> " + std::to_string(t));
    g.add_edge(s, t);
  }
  return g;
}

inline layer_graph load_json(const std::filesystem::path& path) { return from_json(detail::read_text(path)); }

inline std::string to_json(const layer_graph& g) {
  std::string out = "{\"format\": \"incision.layer_graph\", \"version\": 1,\n \"layers\": [";
  for (layer_id v = 0; v < g.size(); ++v) {
    out += v == 0 ? "\n  " : ",\n  ";
    out += "{\"name\": ";
    incision::detail::write_json_string(out, g[v].name);
    out += ", \"device_time\": ";
    incision::detail::write_json_number(out, g[v].device_time);
    out += ", \"server_time\": ";
    incision::detail::write_json_number(out, g[v].server_time);
    out += ", \"out_bytes\": ";
    incision::detail::write_json_number(out, g[v].out_bytes);
    if (!g[v].type.empty()) {  // optional metadata, written only when set
      out += ", \"type\": ";
      incision::detail::write_json_string(out, g[v].type);
    }
    if (g[v].macs != 0.0) {
      out += ", \"macs\": ";
      incision::detail::write_json_number(out, g[v].macs);
    }
    out += "}";
  }
  out += "],\n \"edges\": [";
  bool first = true;
  for (const auto& [s, t] : g.edges()) {
    out += first ? "" : ", ";
    first = false;
    out += "[" + std::to_string(s) + ", " + std::to_string(t) + "]";
  }
  out += "]}\n";
  return out;
}

inline void save_json(const layer_graph& g, const std::filesystem::path& path) {
  const std::string text = to_json(g);
  incision::detail::write_file_atomic(
      path, std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

}  // namespace partition
INCISION_END_NAMESPACE
