// Binding helpers for incision::exec: numpy <-> tensor copies, device sets from Python, and the
// bound objects (a network with its scratch buffers, the online loop's learner adaptor).
#pragma once

#include "bindings/common.hpp"

#include <incision/exec.hpp>
#include <incision/partition.hpp>

#include <cstring>
#include <string>
#include <vector>

namespace incision_py {
namespace ie = incision::exec;
namespace ip = incision::partition;

[[noreturn]] inline void throw_exec(const std::string& what) {
  throw incision::invalid_argument(incision::detail::message("exec", what));
}

/// A float32 numpy array copied into a tensor (the tensor owns its memory, so a copy is
/// unavoidable; other dtypes are refused rather than silently converted). GIL held.
inline ie::tensor to_tensor(const py::array& a, const char* what) {
  if (!a.dtype().is(py::dtype::of<float>()))
    throw_exec(std::string(what) + " must be a float32 array, got dtype " +
               py::str(static_cast<py::object>(a.dtype())).cast<std::string>() + " (use .astype(numpy.float32))");
  const auto c = py::array_t<float, py::array::c_style>::ensure(a);  // no copy when already C-ordered
  if (!c) throw py::error_already_set();
  ie::shape_type shape(static_cast<std::size_t>(c.ndim()));
  for (std::size_t i = 0; i < shape.size(); ++i)
    shape[i] = static_cast<std::size_t>(c.shape(static_cast<py::ssize_t>(i)));
  ie::tensor t = ie::tensor::from_shape(shape);
  if (t.size() != 0) std::memcpy(t.data(), c.data(), 4 * t.size());
  return t;
}

/// A tensor copied into a new float32 numpy array. GIL held.
inline py::array_t<float> to_numpy(const ie::tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array_t<float> out(shape);
  if (t.size() != 0) std::memcpy(out.mutable_data(), t.data(), 4 * t.size());
  return out;
}

/// A read-only numpy view of a tensor owned by @p base (kept alive by the view). GIL held.
inline py::array read_only_view(const ie::tensor& t, py::handle base) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array_t<float> view(shape, t.data(), base);
  py::detail::array_proxy(view.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return view;
}

/// One output array, or a tuple of them when the network has several outputs. GIL held.
inline py::object outputs_to_python(const ie::tensor_list& outs) {
  if (outs.size() == 1) return to_numpy(outs[0].value);
  py::tuple t(outs.size());
  for (std::size_t i = 0; i < outs.size(); ++i) t[i] = to_numpy(outs[i].value);
  return t;
}

/// A device set from Python: a Plan (its device_layers) or a sequence of layer ids.
inline std::vector<ip::layer_id> to_device_set(py::handle h) {
  if (py::isinstance<ip::plan>(h)) return h.cast<const ip::plan&>().device_layers;
  if (py::isinstance<py::str>(h) || py::isinstance<py::bytes>(h))
    throw_exec("a device set is a Plan or a sequence of layer ids, got a string");
  try {
    return h.cast<std::vector<ip::layer_id>>();
  } catch (const py::cast_error&) {
    throw_exec("a device set is a Plan or a sequence of non-negative layer ids, got " +
               py::repr(h).cast<std::string>());
  }
}

/// The reference CPU backend with the scratch buffers of split runs, and its lock.
struct py_network {
  explicit py_network(ie::network net, std::string n) : backend(std::move(net)), name(std::move(n)) {}
  ie::cpu_backend backend;
  std::string name;
  ie::tensor_list cut, received, server, outputs;
  std::vector<std::byte> wire;
  mutable object_mutex m;
};

}  // namespace incision_py
