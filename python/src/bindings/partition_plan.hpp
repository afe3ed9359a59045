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
         " s, device_layers=" + std::to_string(p.device_layers.size()) + ", shipped_layers=" +
         std::to_string(p.shipped_layers.size()) + ", status=" + std::string(incision::to_string(p.status)) + ")";
}
}  // namespace incision_py
