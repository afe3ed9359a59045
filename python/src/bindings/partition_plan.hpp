// Binding helpers for incision::partition: plan conversion.
#pragma once

#include "bindings/common.hpp"

#include <incision/partition.hpp>

#include <string>

namespace incision_py {
namespace ip = incision::partition;

inline py::array_t<bool> on_device_array(const ip::plan& p) {
  py::array_t<bool> out(static_cast<py::ssize_t>(p.placement.size()));
  auto m = out.mutable_unchecked<1>();
  for (py::ssize_t i = 0; i < m.shape(0); ++i) m(i) = p.placement[static_cast<std::size_t>(i)] == ip::side::device;
  return out;
}

inline std::string plan_repr(const ip::plan& p) {
  return "Plan(latency=" + std::to_string(p.latency) + " s, max_stage=" + std::to_string(p.max_stage) +
         " s, device_layers=" + std::to_string(p.device_layers.size()) +
         ", shipped_layers=" + std::to_string(p.shipped_layers.size()) +
         ", status=" + std::string(incision::to_string(p.status)) + ")";
}

// ---- Pickle state (equality: ip::plan's operator==). A field added to ip::plan or ip::layer must
// be added below.

/// Pickle state of a plan: a plain tuple (status, placement as 0/1 per layer, the three id lists,
/// the eight times), so it is readable without incision and exact (doubles stay doubles).
inline py::tuple plan_state(const ip::plan& p) {
  std::vector<int> placement(p.placement.size());
  std::transform(p.placement.begin(), p.placement.end(), placement.begin(),
                 [](ip::side s) { return static_cast<int>(s); });
  return py::make_tuple(static_cast<int>(p.status), placement, p.device_layers, p.server_layers, p.shipped_layers,
                        p.shipped_bytes, p.device_time, p.upload_time, p.server_time, p.download_time, p.rtt, p.latency,
                        p.max_stage);
}

inline ip::plan plan_from_state_unchecked(const py::tuple& t) {
  auto bad = [](const std::string& what) {
    return incision::invalid_argument(incision::detail::message("partition", "Plan state: " + what));
  };
  if (t.size() != 13) throw bad("expected a 13-tuple, got " + std::to_string(t.size()) + " items");
  ip::plan p;
  const auto status = t[0].cast<int>();
  if (status < 0 || status > static_cast<int>(incision::status::iteration_limit))
    throw bad("unknown status " + std::to_string(status));
  p.status = static_cast<incision::status>(status);
  for (const int s : t[1].cast<std::vector<int>>()) {
    if (s != 0 && s != 1) throw bad("placement values must be 0 (device) or 1 (server), got " + std::to_string(s));
    p.placement.push_back(static_cast<ip::side>(s));
  }
  p.device_layers = t[2].cast<std::vector<ip::layer_id>>();
  p.server_layers = t[3].cast<std::vector<ip::layer_id>>();
  p.shipped_layers = t[4].cast<std::vector<ip::layer_id>>();
  const std::size_t n = p.placement.size();
  for (const auto* ids : {&p.device_layers, &p.server_layers, &p.shipped_layers})
    for (const auto v : *ids)
      if (v >= n) throw bad("layer id " + std::to_string(v) + " beyond the " + std::to_string(n) + " placed layers");
  double* times[] = {&p.shipped_bytes, &p.device_time, &p.upload_time, &p.server_time,
                     &p.download_time, &p.rtt,         &p.latency,     &p.max_stage};
  for (std::size_t i = 0; i < 8; ++i) *times[i] = t[5 + i].cast<double>();
  return p;
}
inline ip::plan plan_from_state(const py::tuple& t) {
  try {
    return plan_from_state_unchecked(t);
  } catch (const py::cast_error& e) {  // a field of the wrong type: TypeError, not RuntimeError
    throw py::type_error(incision::detail::message("partition", std::string("Plan state: ") + e.what()));
  }
}

inline bool layers_equal(const ip::layer& a, const ip::layer& b) {
  return a.name == b.name && a.device_time == b.device_time && a.server_time == b.server_time &&
         a.out_bytes == b.out_bytes && a.type == b.type && a.macs == b.macs;
}

/// Same layers (every field, in id order) and the same set of edges (insertion order aside).
inline bool graphs_equal(const ip::layer_graph& a, const ip::layer_graph& b) {
  if (a.size() != b.size() || a.num_edges() != b.num_edges()) return false;
  for (ip::layer_id v = 0; v < a.size(); ++v)
    if (!layers_equal(a[v], b[v])) return false;
  auto ea = a.edges();
  auto eb = b.edges();
  std::sort(ea.begin(), ea.end());
  std::sort(eb.begin(), eb.end());
  return ea == eb;
}
}  // namespace incision_py
