// Binding helpers for incision::net (the edge server and the TCP link, which need Asio): the
// bound TCP link, shared by the net bindings and the online loop, and model fingerprints.
// Compiled only when the build found Asio (INCISION_PY_HAVE_NET, python/CMakeLists.txt).
#pragma once

#include "bindings/common.hpp"
#include "bindings/exec.hpp"

#include <incision/exec/tcp_link.hpp>
#include <incision/exec/wire.hpp>

#include <cstdint>
#include <string>

namespace incision_py {

/// A device's connection to an edge, with its lock (tcp_link is driven by one thread at a time).
struct py_tcp_link {
  py_tcp_link(std::uint64_t model, ie::tcp_link_options o) : link(model, o), fingerprint(model), opt(std::move(o)) {}
  ie::tcp_link link;
  std::uint64_t fingerprint;
  ie::tcp_link_options opt;
  mutable object_mutex m;
};

/// The fingerprint devices and edge compare in the handshake: a Network's model_fingerprint
/// (graph + weights), an int, or a Python backend's `fingerprint` attribute. GIL held.
inline std::uint64_t fingerprint_of(const py::handle& model) {
  if (py::isinstance<py_network>(model)) {
    const auto& n = model.cast<const py_network&>();
    object_lock lock(n.m, object_lock::shared);
    return ie::model_fingerprint(n.backend.net());
  }
  py::object f;
  if (py::isinstance<py::int_>(model) && !py::isinstance<py::bool_>(model))
    f = py::reinterpret_borrow<py::object>(model);
  else if (py::hasattr(model, "fingerprint"))
    f = model.attr("fingerprint");
  else
    throw_exec(
        "a Python backend served or reached over TCP needs a `fingerprint` attribute (an int in [0, 2**64) "
        "that differs between models: graph and weights), so the handshake can tell two models apart");
  if (!py::isinstance<py::int_>(f) || py::isinstance<py::bool_>(f))
    throw_exec("a model fingerprint must be an int in [0, 2**64), got " + py::repr(f).cast<std::string>());
  try {
    return f.cast<std::uint64_t>();
  } catch (const py::cast_error&) {
    throw_exec("a model fingerprint must be an int in [0, 2**64), got " + py::repr(f).cast<std::string>());
  }
}

}  // namespace incision_py
