// Binding helpers for incision::bandit: every learner family (LinUCB, DisjointLinUCB, MuLinUCB)
// is bound through bind_learner_family: one Python class holding one of the three statistics
// policies (plain ridge, discounted, sliding window) and its lock, with the shared surface
// (policy, snapshot/restore, save/load, pickle, merge, repr) written once.
#pragma once

#include "bindings/common.hpp"

#include <incision/bandit.hpp>
#include <incision/detail/bytes.hpp>

#include <pybind11/stl/filesystem.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>

namespace incision_py {

namespace ib = incision::bandit;
constexpr int dyn = Eigen::Dynamic;

using plain_stats = ib::ridge_stats<dyn>;
using disc_stats = ib::discounted_stats<dyn>;
using win_stats = ib::window_stats<dyn>;

// ---- The statistics policy: one table. Its order is the Python name order, the variant order of
// every learner family and the tag each policy writes into snapshots (checked below).
enum class stats_policy : std::uint8_t { ridge, discounted, window };
using policy_stats = std::tuple<plain_stats, disc_stats, win_stats>;
constexpr std::array<const char*, 3> policy_names{"ridge", "discounted", "window"};

static_assert(plain_stats::policy_tag == static_cast<std::uint8_t>(stats_policy::ridge));
static_assert(disc_stats::policy_tag == static_cast<std::uint8_t>(stats_policy::discounted));
static_assert(win_stats::policy_tag == static_cast<std::uint8_t>(stats_policy::window));
static_assert(std::tuple_size_v<policy_stats> == policy_names.size());

inline const char* policy_name(stats_policy p) { return policy_names[static_cast<std::size_t>(p)]; }

/// Which statistics policy the keyword arguments ask for.
inline stats_policy policy_of(const std::optional<double>& gamma, const std::optional<std::size_t>& window) {
  if (gamma && window)
    throw incision::invalid_argument(incision::detail::message("bandit", "give at most one of gamma and window"));
  if (gamma) return stats_policy::discounted;
  if (window) return stats_policy::window;
  return stats_policy::ridge;
}

// ---- Feature scaling names (one table for parsing and for the Python default).
constexpr std::array<std::pair<std::string_view, ib::feature_scaling>, 2> scaling_names{
    {{"column_max", ib::feature_scaling::column_max}, {"none", ib::feature_scaling::none}}};

inline ib::feature_scaling parse_scaling(const std::string& s, const char* area) {
  for (const auto& [name, v] : scaling_names)
    if (s == name) return v;
  throw incision::invalid_argument(
      incision::detail::message(area, "scaling must be 'column_max' or 'none', got '" + s + "'"));
}
inline std::string scaling_name(ib::feature_scaling v) {
  for (const auto& [name, value] : scaling_names)
    if (value == v) return std::string(name);
  return "unknown";
}

// ---- A learner family: Family::template learner<Dim, Stats> is the C++ learner.
template <template <int, class> class Learner, class Tuple>
struct variant_over;
template <template <int, class> class Learner, class... S>
struct variant_over<Learner, std::tuple<S...>> {
  using type = std::variant<Learner<dyn, S>...>;
};

template <class Family>
using learner_variant = typename variant_over<Family::template learner, policy_stats>::type;

/// The Python object of a learner family: the learner (one of three policies) and its lock.
template <class Family>
struct py_learner : locked_object<learner_variant<Family>> {
  using variant = learner_variant<Family>;
  using locked_object<variant>::locked_object;

  [[nodiscard]] stats_policy policy() const { return static_cast<stats_policy>(this->obj.index()); }

  /// f(learner) under the lock; the result is copied before the unlock.
  template <class F>
  auto read(F&& f) const {
    object_lock lock(this->m);
    return std::visit(std::forward<F>(f), this->obj);
  }
  template <class F>
  auto write(F&& f) {
    object_lock lock(this->m);
    return std::visit(std::forward<F>(f), this->obj);
  }
  /// A long call, all or nothing: releases the GIL, locks, runs f on a copy of the learner and
  /// installs the copy only if f returns (so a throw at frame t leaves frames < t unapplied too).
  /// f must touch no Python object.
  template <class F>
  auto transact(F&& f) {
    py::gil_scoped_release release;
    object_lock lock(this->m);
    return std::visit(
        [&](auto& p) {
          auto work = p;
          auto result = f(work);
          p = std::move(work);
          return result;
        },
        this->obj);
  }
};

/// Restores whichever policy the sealed snapshot holds (its first payload byte is the policy tag).
template <class Family, std::size_t I = 0>
learner_variant<Family> restore_variant(std::span<const std::byte> b, std::uint8_t tag) {
  using alt = std::variant_alternative_t<I, learner_variant<Family>>;
  if constexpr (I + 1 < std::variant_size_v<learner_variant<Family>>) {
    if (tag != alt::stats_type::policy_tag) return restore_variant<Family, I + 1>(b, tag);
  }
  return alt::restore(b);  // the last alternative rejects a foreign tag itself
}
template <class Family>
learner_variant<Family> restore_variant(std::span<const std::byte> b) {
  const auto payload = incision::detail::unseal(b, Family::snapshot_kind, Family::snapshot_what);
  if (payload.empty()) incision::detail::byte_reader(payload, Family::snapshot_what).fail("empty payload");
  return restore_variant<Family>(b, std::to_integer<std::uint8_t>(payload[0]));
}

inline constexpr const char* threading_doc = R"doc(

Threads: every method takes a per-object lock, so one learner may be shared by Python threads and
their calls are serialised (each call sees and leaves a consistent state; ``n_updates`` counts
every update). Batch methods (``run``, ``simulate``) release the GIL while they run, so learners in
different threads progress in parallel; they are all or nothing: on an exception nothing is applied.
)doc";

/// Binds the class and the surface every learner family shares.
template <class Family>
py::class_<py_learner<Family>> bind_learner_family(py::module_& m, const char* name, const std::string& doc) {
  using W = py_learner<Family>;
  using Cls = py::class_<W>;
  // The class object owns the docstring pointer only as a C string: keep it alive.
  static const std::string full_doc = doc + threading_doc;
  Cls cls(m, name, full_doc.c_str());
  cls.def_property_readonly(
         "policy", [](const W& self) { return policy_name(self.policy()); },
         "Statistics policy: 'ridge', 'discounted' (gamma) or 'window'.")
      .def(
          "snapshot", [](const W& self) { return to_py_bytes(self.read([](const auto& p) { return p.snapshot(); })); },
          "The full state as versioned, checksummed bytes.")
      .def_static(
          "restore", [](const py::bytes& data) { return W(restore_variant<Family>(as_byte_span(data))); },
          py::arg("data"), "A learner from snapshot() bytes. ValueError on corrupt or foreign bytes.")
      .def(
          "save",
          [](const W& self, const std::filesystem::path& path) {
            py::gil_scoped_release release;
            object_lock lock(self.m);
            std::visit([&](const auto& p) { p.save(path); }, self.obj);
          },
          py::arg("path"), "Writes the snapshot to a file atomically.")
      .def_static(
          "load",
          [](const std::filesystem::path& path) {
            const auto b = incision::detail::read_file_bytes(path);
            return W(restore_variant<Family>(b));
          },
          py::arg("path"), "A learner from a file written by save().")
      // Pickle: __getstate__ is the snapshot; __setstate__ builds the learner when unpickling (a
      // fresh instance) and restores a live one in place (strong guarantee: ValueError/TypeError
      // on bad state, nothing changed).
      .def("__getstate__",
           [](const W& self) { return to_py_bytes(self.read([](const auto& p) { return p.snapshot(); })); })
      .def(
          "merge",
          [](W& self, const W& other) {
            if (&self == &other) {
              object_lock lock(self.m);
              std::visit(
                  [](auto& p) {
                    const auto copy = p;  // merging with itself: do not read what is being written
                    p.merge(copy);
                  },
                  self.obj);
              return;
            }
            object_lock lock({&self.m, &other.m});
            if (self.obj.index() != other.obj.index())
              throw incision::invalid_argument(
                  incision::detail::message("bandit", "cannot merge learners with different statistics policies"));
            std::visit([&](auto& p) { p.merge(std::get<std::decay_t<decltype(p)>>(other.obj)); }, self.obj);
          },
          py::arg("other"), "Adds the other learner's data statistics.")
      .def("__repr__", [](const W& self) {
        return self.read([&](const auto& p) { return Family::repr(p, policy_name(self.policy())); });
      });
  // Named apart: pybind11 treats any function named __setstate__ as a constructor and silently
  // skips it on a live object (the bug this replaces); pickle calls the attribute.
  cls.attr("__setstate__") = py::cpp_function(
      [cls_name = std::string(name)](py::handle self, const py::bytes& state) {
        if (!py::isinstance<W>(self)) throw py::type_error("__setstate__ expects a " + cls_name + " instance");
        auto restored = restore_variant<Family>(as_byte_span(state));
        auto* inst = reinterpret_cast<py::detail::instance*>(self.ptr());
        auto vh = inst->get_value_and_holder(py::detail::get_type_info(typeid(W)));
        if (!vh.holder_constructed()) {  // unpickling: __new__ made an empty instance
          py::detail::initimpl::construct<Cls>(vh, W(std::move(restored)), false);
          return;
        }
        W& live = *vh.template value_ptr<W>();
        object_lock lock(live.m);
        live.obj = std::move(restored);
      },
      py::name("_setstate"), py::is_method(cls), py::arg("state"),
      "Restores snapshot bytes into this learner (pickle). ValueError/TypeError on bad state, nothing changed.");
  return cls;
}

}  // namespace incision_py
