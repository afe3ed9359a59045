// Backends for the bound online loop and edge server: a C++ adaptor that models
// exec::inference_backend by calling a Python object (py_backend), and a type-erased backend
// (any_backend) so one loop type runs the CPU network, a Python backend or the edge.
#pragma once

#include "bindings/common.hpp"
#include "bindings/exec.hpp"

#include <incision/exec.hpp>
#include <incision/partition.hpp>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace incision_py {

inline std::string id_list(const std::vector<ip::layer_id>& ids) {
  std::string s = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) s += (i ? ", " : "") + std::to_string(ids[i]);
  return s + "]";
}

// ---- py_backend --------------------------------------------------------------------------

/// Models exec::inference_backend by calling a Python object with the same operations:
///
///     graph: LayerGraph                                   (read once, at construction)
///     run_device(device_layers: list[int], x: ndarray) -> arrays of the cut
///     run_server(device_layers: list[int], cut: dict[int, ndarray]) -> arrays of the outputs
///     input_shape: tuple (optional)        layer_shapes: sequence of tuple | None (optional)
///
/// Arrays are float32 numpy arrays; a result is either a mapping {layer id: array} or a
/// sequence in ascending id order (a single array when one tensor is expected). The adaptor
/// checks device sets, cut tensors and results itself (invalid_argument naming the layer), so
/// the Python object sees only feasible sets and the edge only well-formed frames.
///
/// GIL: the C++ callers run without it; each call takes it only around the Python call and the
/// numpy conversions. A Python exception leaves as a Python exception (ValueError for
/// ValueError/TypeError, RuntimeError otherwise) naming the method, with the original as its
/// __cause__; a caller in C++ sees a std::exception (the edge turns it into a failed frame).
/// Copies share one Python object (the edge's workers call it concurrently when threads > 1).
class py_backend {
 public:
  /// GIL held. @throws invalid_argument when obj lacks the operations or its graph.
  explicit py_backend(const py::object& obj);

  [[nodiscard]] const ip::layer_graph& graph() const noexcept { return st_->graph; }
  [[nodiscard]] const std::optional<ie::shape_type>& input_shape() const noexcept { return st_->input_shape; }
  [[nodiscard]] const py::object& object() const noexcept { return st_->obj; }
  [[nodiscard]] const std::string& type_name() const noexcept { return st_->type_name; }

  void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut);
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& outputs);

 private:
  struct state {
    py::object obj;
    std::string type_name;
    ip::layer_graph graph;
    std::optional<ie::shape_type> input_shape;
    std::vector<std::optional<ie::shape_type>> shapes;  // per layer; empty: not declared
    ~state() {
      py::gil_scoped_acquire gil;  // the last copy may die on a worker thread
      obj = py::object();
    }
  };
  std::shared_ptr<state> st_;
  std::vector<char> on_;
  std::vector<ip::layer_id> ids_;

  [[nodiscard]] std::string who(const char* method) const { return st_->type_name + "." + method; }
  void check_shape(ip::layer_id v, const ie::shape_type& got, const std::string& what) const;
  void take(py::handle result, ie::tensor_list& out, const std::string& method) const;
  [[noreturn]] void rethrow(py::error_already_set& e, const std::string& method) const;
};

inline std::optional<ie::shape_type> to_shape(py::handle h, const std::string& what) {
  if (h.is_none()) return std::nullopt;
  try {
    return h.cast<ie::shape_type>();
  } catch (const py::cast_error&) {
    throw_exec(what + " must be a tuple of non-negative ints or None, got " + py::repr(h).cast<std::string>());
  }
}

inline py_backend::py_backend(const py::object& obj) : st_(std::make_shared<state>()) {
  st_->type_name = py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
  for (const char* op : {"graph", "run_device", "run_server"})
    if (!py::hasattr(obj, op))
      throw_exec("a Python backend needs graph, run_device(device_layers, x) and run_server(device_layers, cut); " +
                 st_->type_name + " has no '" + op + "'");
  const py::object g = obj.attr("graph");
  if (!py::isinstance<locked_object<ip::layer_graph>>(g))
    throw_exec(st_->type_name + ".graph must be an incision.LayerGraph, got " +
               py::str(py::type::handle_of(g).attr("__name__")).cast<std::string>());
  {
    const auto& pg = g.cast<const locked_object<ip::layer_graph>&>();
    object_lock lock(pg.m, object_lock::shared);
    st_->graph = pg.obj;
  }
  if (st_->graph.size() == 0) throw_exec(st_->type_name + ".graph has no layers");
  if (py::hasattr(obj, "input_shape"))
    st_->input_shape = to_shape(obj.attr("input_shape"), st_->type_name + ".input_shape");
  if (py::hasattr(obj, "layer_shapes") && !obj.attr("layer_shapes").is_none()) {
    const py::object s = obj.attr("layer_shapes");
    if (!py::isinstance<py::sequence>(s) || py::len(s) != st_->graph.size())
      throw_exec(st_->type_name + ".layer_shapes must be a sequence of " + std::to_string(st_->graph.size()) +
                 " shapes (one per layer, None where unknown)");
    for (const py::handle h : s) st_->shapes.push_back(to_shape(h, st_->type_name + ".layer_shapes entries"));
  }
  st_->obj = obj;
}

inline void py_backend::check_shape(ip::layer_id v, const ie::shape_type& got, const std::string& what) const {
  if (st_->shapes.empty() || !st_->shapes[v]) return;
  if (*st_->shapes[v] != got)
    throw_exec(what + ": the tensor of layer " + std::to_string(v) + " '" + st_->graph[v].name + "' has shape " +
               ie::shape_string(got) + ", expected " + ie::shape_string(*st_->shapes[v]));
}

// Fills out with the tensors named by ids_ from a mapping or a sequence. GIL held.
inline void py_backend::take(py::handle result, ie::tensor_list& out, const std::string& method) const {
  const std::string what = who(method.c_str());
  std::vector<py::object> items(ids_.size());
  if (py::isinstance<py::dict>(result) || (py::hasattr(result, "keys") && py::hasattr(result, "__getitem__"))) {
    const py::object m = py::reinterpret_borrow<py::object>(result);
    if (py::len(m) != ids_.size())
      throw_exec(what + " returned " + std::to_string(py::len(m)) + " tensors, expected " +
                 std::to_string(ids_.size()) + " (layers " + id_list(ids_) + ")");
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      const py::int_ key(ids_[i]);
      if (!m.attr("__contains__")(key).cast<bool>())
        throw_exec(what + " returned no tensor for layer " + std::to_string(ids_[i]) + " '" + st_->graph[ids_[i]].name +
                   "' (expected layers " + id_list(ids_) + ")");
      items[i] = m[key];
    }
  } else if (py::isinstance<py::array>(result) && ids_.size() == 1) {
    items[0] = py::reinterpret_borrow<py::object>(result);
  } else if (py::isinstance<py::sequence>(result) && !py::isinstance<py::str>(result) &&
             !py::isinstance<py::bytes>(result) && !py::isinstance<py::array>(result)) {
    const auto seq = py::reinterpret_borrow<py::sequence>(result);
    if (seq.size() != ids_.size())
      throw_exec(what + " returned " + std::to_string(seq.size()) + " tensors, expected " +
                 std::to_string(ids_.size()) + " (layers " + id_list(ids_) + ", ascending)");
    for (std::size_t i = 0; i < ids_.size(); ++i) items[i] = seq[i];
  } else {
    throw_exec(what + " must return a mapping {layer id: float32 array} or a sequence of float32 arrays for layers " +
               id_list(ids_) + ", got " + py::str(py::type::handle_of(result).attr("__name__")).cast<std::string>());
  }
  out.resize(ids_.size());
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const ip::layer_id v = ids_[i];
    const std::string label = what + ": layer " + std::to_string(v) + " '" + st_->graph[v].name + "'";
    if (!py::isinstance<py::array>(items[i]))
      throw_exec(label + " must be a float32 numpy array, got " +
                 py::str(py::type::handle_of(items[i]).attr("__name__")).cast<std::string>());
    const auto a = py::reinterpret_borrow<py::array>(items[i]);
    if (!a.dtype().is(py::dtype::of<float>()))
      throw_exec(label + " must be float32, got dtype " +
                 py::str(static_cast<py::object>(a.dtype())).cast<std::string>());
    const auto c = py::array_t<float, py::array::c_style>::ensure(a);  // no copy when C-ordered
    if (!c) throw py::error_already_set();
    ie::shape_type shape(static_cast<std::size_t>(c.ndim()));
    for (std::size_t k = 0; k < shape.size(); ++k)
      shape[k] = static_cast<std::size_t>(c.shape(static_cast<py::ssize_t>(k)));
    check_shape(v, shape, what);
    out[i].id = v;
    ie::resize(out[i].value, shape);
    if (out[i].value.size() != 0) std::memcpy(out[i].value.data(), c.data(), 4 * out[i].value.size());
  }
}

// A Python exception from the backend: re-raised naming the method, the original as __cause__.
// BaseExceptions that are not Exceptions (KeyboardInterrupt, SystemExit) pass unchanged.
inline void py_backend::rethrow(py::error_already_set& e, const std::string& method) const {
  if (!e.matches(PyExc_Exception)) throw;
  const bool bad_argument = e.matches(PyExc_ValueError) || e.matches(PyExc_TypeError);
  const std::string text = incision::detail::message(
      "exec", "the Python backend's " + who(method.c_str()) + " raised " + std::string(e.what()));
  py::raise_from(e, bad_argument ? PyExc_ValueError : PyExc_RuntimeError, text.c_str());
  throw py::error_already_set();
}

inline void py_backend::run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) {
  const std::string what = who("run_device");
  ie::mark_device_set(st_->graph, d, on_, what);
  if (st_->input_shape &&
      !std::equal(input.shape().begin(), input.shape().end(), st_->input_shape->begin(), st_->input_shape->end()))
    throw_exec(what + ": the input has shape " + ie::shape_string(input.shape()) + ", the backend takes " +
               ie::shape_string(*st_->input_shape));
  ie::crossing_layers(st_->graph, d, on_, ids_);
  py::gil_scoped_acquire gil;
  try {
    const py::object r =
        st_->obj.attr("run_device")(py::cast(std::vector<ip::layer_id>(d.begin(), d.end())), to_numpy(input));
    take(r, cut, "run_device");
  } catch (py::error_already_set& e) {
    rethrow(e, "run_device");
  }
}

inline void py_backend::run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& outputs) {
  const std::string what = who("run_server");
  ie::mark_device_set(st_->graph, d, on_, what);
  ie::crossing_layers(st_->graph, d, on_, ids_);
  // every tensor the server part reads must be in the cut, with its declared shape
  std::vector<const ie::tensor*> in(ids_.size(), nullptr);
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const ip::layer_id v = ids_[i];
    bool needed = false;
    for (const ip::layer_id w : st_->graph.successors(v)) needed = needed || !on_[w];
    if (!needed) continue;  // a network output computed on the device: the server does not read it
    in[i] = ie::find(cut, v);
    if (in[i] == nullptr)
      throw_exec(what + ": the cut lacks the tensor of layer " + std::to_string(v) + " '" + st_->graph[v].name + "'");
    check_shape(v, ie::shape_type(in[i]->shape().begin(), in[i]->shape().end()), what + " (cut)");
  }
  const std::vector<ip::layer_id> cut_layers = ids_;
  ie::server_output_layers(st_->graph, on_, ids_);
  if (ids_.empty()) {  // every layer on the device: nothing to compute
    outputs.clear();
    return;
  }
  py::gil_scoped_acquire gil;
  try {
    py::dict args;
    for (std::size_t i = 0; i < cut_layers.size(); ++i)
      if (in[i] != nullptr) args[py::int_(cut_layers[i])] = to_numpy(*in[i]);
    const py::object r = st_->obj.attr("run_server")(py::cast(std::vector<ip::layer_id>(d.begin(), d.end())), args);
    take(r, outputs, "run_server");
  } catch (py::error_already_set& e) {
    rethrow(e, "run_server");
  }
}

static_assert(ie::inference_backend<py_backend>);

// ---- any_backend ---------------------------------------------------------------------------

/// The operations of a backend behind virtual calls.
struct backend_iface {
  virtual ~backend_iface() = default;
  [[nodiscard]] virtual const ip::layer_graph& graph() const = 0;
  virtual void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) = 0;
  virtual void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& outputs) = 0;
};

/// backend_iface over a backend B, owned (B) or referenced (B&).
template <class B>
struct backend_model final : backend_iface {
  template <class... A>
  explicit backend_model(A&&... a) : b(std::forward<A>(a)...) {}
  B b;
  const ip::layer_graph& graph() const override { return b.graph(); }
  void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) override {
    b.run_device(d, input, cut);
  }
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& outputs) override {
    b.run_server(d, cut, outputs);
  }
};

/// A non-owning handle that models inference_backend over any backend_iface: one online_loop
/// instantiation serves the CPU network, Python backends and the edge.
struct any_backend {
  backend_iface* impl = nullptr;
  [[nodiscard]] const ip::layer_graph& graph() const { return impl->graph(); }
  void run_device(ie::device_set d, const ie::tensor& input, ie::tensor_list& cut) { impl->run_device(d, input, cut); }
  void run_server(ie::device_set d, const ie::tensor_list& cut, ie::tensor_list& outputs) {
    impl->run_server(d, cut, outputs);
  }
};
static_assert(ie::inference_backend<any_backend>);

/// A Network or a Python backend object, as a backend for the bound loop and free functions.
struct resolved_backend {
  std::unique_ptr<backend_iface> impl;
  py_network* net = nullptr;  // the CPU network (lock net->m around calls), or null for a Python backend
  std::optional<ie::shape_type> input_shape;
};

/// GIL held. A Network is referenced (it must outlive the result); any other object is wrapped
/// in a py_backend.
inline resolved_backend resolve_backend(const py::object& obj) {
  resolved_backend r;
  if (py::isinstance<py_network>(obj)) {
    r.net = &obj.cast<py_network&>();
    r.impl = std::make_unique<backend_model<ie::cpu_backend&>>(r.net->backend);
    r.input_shape = r.net->backend.input_shape();
    return r;
  }
  auto m = std::make_unique<backend_model<py_backend>>(obj);
  r.input_shape = m->b.input_shape();
  r.impl = std::move(m);
  return r;
}

}  // namespace incision_py
